//! unified-llm-service: one Lambda for every LLM call. See README.md for the architecture; each module is
//! one stage of the pipeline, and arrows point down only: entry points -> pipeline -> stages -> model/error.

pub mod admin;
pub mod capabilities;
pub mod cli;
pub mod config;
pub mod emulator;
pub mod error;
pub mod event;
pub mod guard;
pub mod lambda;
pub mod model;
pub mod normalize;
pub mod pipeline;
pub mod provider;
pub mod replay;
pub mod response;
pub mod secrets;
pub mod settings;
pub mod setup;
pub mod transform;
