// npm start [-- <service>...]: every service (or those named) with `nest start`, in one terminal,
// each line prefixed with its service's name; Ctrl-C or one service ending stops them all.
// npm run start:prod [-- <service>...]: the same with the built bundles, `node dist/apps/<app>/main.js`.
import { concurrently } from 'concurrently';
import { createRequire } from 'node:module';

const { servicesNamed } = createRequire(import.meta.url)('./services.cjs');
const prod = process.argv[2] === '--prod';
const names = servicesNamed(process.argv.slice(prod ? 3 : 2));

const { result } = concurrently(
  names.map((name) => ({
    name,
    command: prod ? `node dist/apps/${name}/main.js` : `nest start ${name}`,
  })),
  {
    killOthersOn: ['failure', 'success'],
    prefixColors: ['blue', 'magenta', 'green', 'cyan', 'yellow'],
  },
);
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
