export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const COMMENT = new RegExp(
  `^# (?:HELP ${METRIC_NAME} .*|TYPE ${METRIC_NAME} (counter|gauge|histogram|summary|untyped))$`,
);

/**
 * Parses the Prometheus text exposition format strictly enough to catch a broken page: every line
 * is a HELP or TYPE comment or a sample with well-formed labels and a number. Throws on the first
 * line that is not.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!COMMENT.test(line))
        throw new Error(`Not a Prometheus comment: ${line}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    const value = match ? parseValue(match[3]) : undefined;
    if (!match || value === undefined) {
      throw new Error(`Not a Prometheus sample: ${line}`);
    }
    samples.push({
      name: match[1],
      labels: parseLabels(match[2] ?? '', line),
      value,
    });
  }
  return samples;
}

/** A Go float as Prometheus writes it: NaN and ±Inf in any case, or a decimal number. */
function parseValue(text: string): number | undefined {
  const special = /^([+-]?)(inf|infinity)$/i.exec(text);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const value = Number(text);
  return text.trim() === '' || Number.isNaN(value) ? undefined : value;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`Bad labels in: ${line}`);
    labels[match[1]] = match[2];
  }
  return labels;
}

/** The value of the one sample with this name whose labels include these, or undefined. */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(
        ([key, value]) => sample.labels[key] === value,
      ),
  );
  if (found.length > 1)
    throw new Error(`${found.length} samples of ${name} match`);
  return found[0]?.value;
}
