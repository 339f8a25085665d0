// The add-on runs Node 22; tests and the demo run on the same major. `npm run` puts
// node_modules/.bin first on PATH, where the npm package `node@22` (a devDependency) lives.
// (The npm scripts run setup first and then a second `npm run`, so that a shell which looked
// `node` up before setup installed Node 22 does not keep using the machine's older one.)
const major = Number(process.versions.node.split('.')[0]);
if (major !== 22) {
  process.stderr.write(
    `Camstack runs on Node 22 (the add-on's Node) but this is Node ${process.versions.node}.\n` +
      'Run it through npm (npm test / npm run demo), which uses node_modules/.bin/node from `npm run setup`.\n',
  );
  process.exit(1);
}
