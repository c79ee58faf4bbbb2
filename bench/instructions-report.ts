// The markdown of bench/instructions.ts' figures, a section of bench/RESULTS.md.
import type { InstructionsResult, Measured } from './instructions-types';
import { FEATURES, ROUTES, TARGETS, project } from './instructions-setup';

const thousands = (n: number) =>
  `${Math.round(n / 1000).toLocaleString('en-US')}k`;
const times = (n: number) => `${n.toFixed(2)}×`;
const percent = (n: number) => `${Math.round(100 * n)} %`;
/** A table row's route key, the process it shows, and the figure it picks. */
type Row = readonly [
  route: string,
  side: string,
  pick: (m: Measured) => number | undefined,
];
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

export function renderInstructions({
  options,
  valgrind,
  figures,
}: InstructionsResult): string[] {
  const targets = TARGETS.filter((target) => figures.has(target.name));
  const references = targets.filter((target) => target !== project);
  const of = (target: string, route: string): Measured | undefined =>
    figures.get(target)?.get(route);
  /** A table of one figure per target, with the project's ratios to the others when asked. */
  const table = (rows: Row[], ratios: boolean): string[] => {
    const compared = ratios ? references : [];
    const lines = [
      row([
        'route',
        'process',
        ...targets.map((t) => t.name),
        ...compared.map((r) => `project / ${r.name}`),
      ]),
      `|---|---|${'--:|'.repeat(targets.length + compared.length)}`,
    ];
    for (const [routeKey, side, pick] of rows) {
      const route = ROUTES.find((r) => r.key === routeKey);
      if (!route) continue;
      const value = (target: string) => {
        const measured = of(target, route.key);
        return measured && pick(measured);
      };
      const ours = value(project.name);
      lines.push(
        row([
          `\`${route.name}\``,
          side,
          ...targets.map((target) => {
            const n = value(target.name);
            return n === undefined ? '' : thousands(n);
          }),
          ...compared.map((reference) => {
            const theirs = value(reference.name);
            return ours && theirs ? times(ours / theirs) : '';
          }),
        ]),
      );
    }
    return lines;
  };
  const lines = [
    '',
    '## Instructions per request (callgrind)',
    '',
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${valgrind} · in memory · ` +
      `per route ${options.warmup} requests of warm-up, then ${options.windows} window${options.windows === 1 ? '' : 's'} of ${options.requests} ` +
      'requests counted, one after the other on one keep-alive connection. A figure is the instructions ' +
      '(callgrind\'s "Ir", user space only) of the main thread of the process answering the route, where ' +
      "the requests run, divided by the requests: the median of the windows. Orders' routes also show " +
      "users' process, the other end of their call to users. `project / X` divides the project's " +
      "instructions by X's: above 1, the project does more work per request. Produced by " +
      '`npm run bench:instructions` (and `npm run bench`). A busy machine does not move these figures; ' +
      'V8 does, a little: each process compiles the code its own way, and two processes of one build ' +
      'can differ by a few percent, so a difference of a few tens of thousands is within that.',
    '',
    ...table(
      ROUTES.flatMap((route): Row[] => [
        [route.key, route.app, (m) => m.own],
        ...(route.app === 'orders'
          ? [[route.key, 'users, behind it', (m: Measured) => m.users] as Row]
          : []),
      ]),
      true,
    ),
    '',
    "V8's helper threads in the answering process (compiling and collecting in the background; " +
      'they come and go, so these move from run to run):',
    '',
    ...table(
      ROUTES.map((route): Row => [route.key, route.app, (m) => m.helpers]),
      false,
    ),
  ];
  const measured = [...figures.values()].flatMap((routes) => [
    ...routes.values(),
  ]);
  const failed = measured.reduce((n, m) => n + m.failed, 0);
  const counted = (
    measured.length *
    options.windows *
    options.requests
  ).toLocaleString('en-US');
  lines.push(
    '',
    failed
      ? `${failed} of the ${counted} counted requests were not answered 2xx (their instructions are in the figures; the console says which).`
      : 'Every counted request was answered 2xx.',
  );
  const features = FEATURES.filter((f) => figures.has(f.target.name));
  if (features.length === 0) return lines;
  lines.push(
    '',
    "**The project's features that a setting switches**: the project measured again with the setting; " +
      'the difference is what the feature costs per request (a setting that turns on a feature off by ' +
      'default adds its cost). The share is of the route with the feature on.',
    '',
    "| feature | setting | route | with it | without it | its cost | share | users' side |",
    '|---|---|---|--:|--:|--:|--:|--:|',
  );
  for (const feature of features) {
    for (const route of ROUTES.filter((r) => feature.routes.includes(r.key))) {
      const base = of(project.name, route.key);
      const switched = of(feature.target.name, route.key);
      if (!base || !switched) continue;
      const [on, off] = feature.adds ? [switched, base] : [base, switched];
      const users =
        on.users !== undefined && off.users !== undefined
          ? thousands(on.users - off.users)
          : '';
      lines.push(
        `| ${feature.name} | \`${feature.setting}\` | \`${route.name}\` | ${thousands(on.own)} | ` +
          `${thousands(off.own)} | ${thousands(on.own - off.own)} | ${percent((on.own - off.own) / on.own)} | ${users} |`,
      );
    }
  }
  return lines;
}
