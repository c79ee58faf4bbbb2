import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, READINESS_INDICATORS } from './health.controller';
import { Lifecycle, LifecycleState } from './lifecycle';
import { ProblemException } from './problem.exception';

describe('HealthController', () => {
  async function controllerIn(state: LifecycleState) {
    const extra = jest.fn(() => []);
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: Lifecycle, useValue: { state } },
        { provide: READINESS_INDICATORS, useValue: { indicators: extra } },
      ],
    }).compile();
    return { controller: moduleRef.get(HealthController), extra };
  }

  it.each<LifecycleState>(['starting', 'draining'])(
    'answers readiness 503 while %s, without asking the dependencies',
    async (state) => {
      const { controller, extra } = await controllerIn(state);
      const error = await controller.ready().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProblemException);
      expect((error as ProblemException).problem).toMatchObject({
        status: 503,
        detail: `Not ready: ${state}`,
        health: {
          status: 'error',
          details: { lifecycle: { status: 'down', state } },
        },
      });
      expect(extra).not.toHaveBeenCalled();
    },
  );

  it('is ready once started', async () => {
    const { controller } = await controllerIn('ready');
    await expect(controller.ready()).resolves.toMatchObject({
      status: 'ok',
      details: { lifecycle: { status: 'up', state: 'ready' } },
    });
  });

  it('stays live in every state', async () => {
    const { controller } = await controllerIn('draining');
    expect(controller.live()).toEqual({
      status: 'ok',
      info: {},
      error: {},
      details: {},
    });
  });
});
