// Two messages that every synthesis prints and that say nothing about this stack, dropped to keep
// the test output readable:
// - the Amplify transformer warns that field-level @auth on root types sees an empty source; our
//   custom operations use static group auth, which it says works as expected;
// - the Amplify construct itself calls a deprecated CfnResource#addDependency.
const IGNORED = [
  'Be careful when using @auth directives on a field in a root type',
  '[WARNING] aws-cdk-lib.CfnResource#addDependency is deprecated',
];
const text = (args: unknown[]) => args.map(String).join(' ');
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (IGNORED.some((m) => text(args).startsWith(m))) return;
  warn(...args);
};
