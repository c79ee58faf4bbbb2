import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fileHashes,
  missingFromStage,
  parseDockerfile,
  replayStage,
  ROOT,
  StageBuild,
} from './build-stage';

/**
 * The Dockerfile's build stage, replayed here without an engine: the files its COPY lines take
 * from the build context (.dockerignore applied), `npm run build` on them, and the bundles
 * compared with the ones `npm run build` made in this checkout (npm test and test:image build
 * first). A file the build reads that the stage lacks is named; `npm run test:image` then builds
 * the same stage for real with podman.
 */
describe("the Dockerfile's build stage", () => {
  let scratch: string;
  let build: StageBuild;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'build-stage-'));
    const stage = parseDockerfile(
      readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
    ).find((s) => s.name === 'build');
    if (!stage) throw new Error('the Dockerfile has no stage named build');
    build = replayStage(stage, scratch);
  }, 300_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('has every file the build reads', () => {
    expect(missingFromStage(build)).toEqual([]);
  });

  it('runs npm run build to the end', () => {
    expect({
      status: build.status,
      output: build.status === 0 ? '' : build.output,
    }).toEqual({
      status: 0,
      output: '',
    });
  });

  it('makes the same bundles, byte for byte, as npm run build here', () => {
    const here = fileHashes(join(ROOT, 'dist', 'apps'));
    expect(Object.keys(here)).toContain('users/main.js');
    expect(fileHashes(join(build.dir, 'dist', 'apps'))).toEqual(here);
  });
});
