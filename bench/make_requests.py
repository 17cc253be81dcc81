#!/usr/bin/env python3
"""Writes the benchmark requests (deterministic): bench/requests/small.json (one user message) and
bench/requests/large.json (40 messages, 8 tools, about 16 KB): a system prompt, a tool loop that calls each
tool in turn with its result and a short answer, ending on a tool result. The requests are in the OpenAI
chat form, which both the service's event and LiteLLM's completion() take as they are."""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent / "requests"

TOOLS = [
    ("get_weather", "Current weather for a city.", {
        "city": {"type": "string", "description": "City name, e.g. Lisbon"},
        "units": {"type": "string", "enum": ["metric", "imperial"]}}, ["city"]),
    ("get_local_time", "Current local time in an IANA time zone.", {
        "timezone": {"type": "string", "description": "IANA zone, e.g. Europe/Lisbon"}}, ["timezone"]),
    ("search_flights", "Flights between two airports on a date, cheapest first.", {
        "origin": {"type": "string", "description": "IATA code of the departure airport"},
        "destination": {"type": "string", "description": "IATA code of the arrival airport"},
        "date": {"type": "string", "description": "Departure date, YYYY-MM-DD"},
        "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
        "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]}},
     ["origin", "destination", "date"]),
    ("search_hotels", "Hotels in a city with free rooms for the given nights.", {
        "city": {"type": "string"},
        "check_in": {"type": "string", "description": "YYYY-MM-DD"},
        "nights": {"type": "integer", "minimum": 1},
        "max_price_eur": {"type": "number", "description": "Highest price per night, in euros"},
        "amenities": {"type": "array", "items": {"type": "string", "enum": ["wifi", "pool", "gym", "parking", "breakfast"]}}},
     ["city", "check_in", "nights"]),
    ("convert_currency", "Converts an amount between two ISO 4217 currencies at today's rate.", {
        "amount": {"type": "number"},
        "from": {"type": "string", "description": "ISO 4217 code, e.g. EUR"},
        "to": {"type": "string", "description": "ISO 4217 code, e.g. USD"}}, ["amount", "from", "to"]),
    ("get_exchange_history", "Daily exchange rates of a currency pair over a period.", {
        "pair": {"type": "string", "description": "e.g. EUR/USD"},
        "days": {"type": "integer", "minimum": 1, "maximum": 365}}, ["pair"]),
    ("find_restaurants", "Restaurants near an address, by cuisine and budget.", {
        "address": {"type": "string"},
        "cuisine": {"type": "string"},
        "budget": {"type": "string", "enum": ["low", "medium", "high"]},
        "open_now": {"type": "boolean"}}, ["address"]),
    ("book_table", "Books a table at a restaurant found by find_restaurants.", {
        "restaurant_id": {"type": "string"},
        "time": {"type": "string", "description": "Local time, HH:MM"},
        "people": {"type": "integer", "minimum": 1, "maximum": 20},
        "notes": {"type": "string", "description": "Allergies, accessibility needs, occasion"}},
     ["restaurant_id", "time", "people"]),
]

CITIES = ["Lisbon", "Madrid", "Rome", "Paris", "Berlin", "Vienna", "Prague", "Athens", "Dublin", "Oslo"]


def tool_defs():
    return [{"type": "function", "function": {"name": n, "description": d,
             "parameters": {"type": "object", "properties": p, "required": r}}}
            for n, d, p, r in TOOLS]


def arguments(i, name):
    city = CITIES[i % len(CITIES)]
    return {
        "get_weather": {"city": city, "units": "metric"},
        "get_local_time": {"timezone": f"Europe/{city}"},
        "search_flights": {"origin": "LIS", "destination": city[:3].upper(), "date": f"2026-12-{10 + i:02d}", "passengers": 2, "cabin": "economy"},
        "search_hotels": {"city": city, "check_in": f"2026-12-{10 + i:02d}", "nights": 3, "max_price_eur": 180, "amenities": ["wifi", "breakfast"]},
        "convert_currency": {"amount": 250 + 10 * i, "from": "EUR", "to": "USD"},
        "get_exchange_history": {"pair": "EUR/USD", "days": 30},
        "find_restaurants": {"address": f"Main square, {city}", "cuisine": "local", "budget": "medium", "open_now": True},
        "book_table": {"restaurant_id": f"r-{city.lower()}-{i:03d}", "time": "20:30", "people": 2, "notes": "one guest is vegetarian"},
    }[name]


def result(i, name):
    city = CITIES[i % len(CITIES)]
    return {
        "get_weather": {"city": city, "temp_c": 11 + i, "condition": "partly cloudy", "precip_probability": 0.2, "wind_kmh": 14},
        "get_local_time": {"timezone": f"Europe/{city}", "local_time": f"2026-12-0{1 + i % 9}T18:{10 + i:02d}:00", "utc_offset": "+01:00"},
        "search_flights": {"flights": [{"flight": f"TP{1200 + i}", "departs": "07:40", "arrives": "10:55", "price_eur": 119 + i}, {"flight": f"FR{880 + i}", "departs": "13:05", "arrives": "16:20", "price_eur": 89 + i}]},
        "search_hotels": {"hotels": [{"id": f"h-{i}-1", "name": f"Hotel {city} Centro", "price_eur": 142, "rating": 4.4}, {"id": f"h-{i}-2", "name": f"Casa {city}", "price_eur": 118, "rating": 4.1}]},
        "convert_currency": {"amount": 250 + 10 * i, "from": "EUR", "to": "USD", "result": round((250 + 10 * i) * 1.0842, 2), "rate": 1.0842},
        "get_exchange_history": {"pair": "EUR/USD", "min": 1.0611, "max": 1.0934, "mean": 1.0788, "trend": "up"},
        "find_restaurants": {"restaurants": [{"id": f"r-{city.lower()}-{i:03d}", "name": f"Taberna {city}", "cuisine": "local", "rating": 4.6}]},
        "book_table": {"confirmation": f"BK-{7000 + i}", "status": "confirmed", "time": "20:30", "people": 2},
    }[name]


def large():
    messages = [{"role": "system", "content": "You are a careful travel assistant for a small agency. Plan trips step by step, "
                 "use the tools for every live fact (weather, times, flights, hotels, money, restaurants), never invent "
                 "prices or availability, and keep answers short, concrete and in the customer's language."}]
    for i in range(13):
        name = TOOLS[i % len(TOOLS)][0]
        call_id = f"call_{i:02d}_{name}"
        messages.append({"role": "user", "content": f"Step {i + 1} of the trip to {CITIES[i % len(CITIES)]}: please check {name.replace('_', ' ')} for me, and tell me what it means for the plan. We travel as a couple, prefer trains where we can and would rather avoid early departures."})
        messages.append({"role": "assistant", "content": f"I will look that up with {name} before answering, so that the plan for {CITIES[i % len(CITIES)]} rests on live data rather than on a guess.", "tool_calls": [{"id": call_id, "type": "function",
                         "function": {"name": name, "arguments": json.dumps(arguments(i, name), separators=(",", ":"))}}]})
        body = dict(result(i, name), source=f"{name} v2 (agency gateway)", fetched_at=f"2026-11-{1 + i:02d}T09:00:00Z",
                    note="Figures are indicative; confirm before paying. Prices include taxes, exclude optional extras.")
        messages.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps(body, separators=(",", ":"))})
        if len(messages) == 40:
            break
    assert len(messages) == 40, len(messages)
    return {"messages": messages, "tools": tool_defs(), "temperature": 0.2, "max_tokens": 1024}


def small():
    return {"messages": [{"role": "user", "content": "In one sentence: why is the sky blue?"}], "max_tokens": 256}


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, req in (("small", small()), ("large", large())):
        text = json.dumps(req, indent=1) + "\n"
        (HERE / f"{name}.json").write_text(text)
        compact = len(json.dumps(req, separators=(",", ":")))
        print(f"{name}: {len(req['messages'])} messages, {len(req.get('tools', []))} tools, {compact} bytes compact")
