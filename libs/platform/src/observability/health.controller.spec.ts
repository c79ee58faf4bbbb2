import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { ProblemException } from '@app/contracts';
import { Lifecycle, LifecycleState } from '../app/lifecycle';
import { HealthController } from './health.controller';
import { ReadinessCheck } from './readiness';

const extra = jest.fn(() => []);

@ReadinessCheck()
@Injectable()
class ExtraReadiness {
  indicators = extra;
}

describe('HealthController', () => {
  async function controllerIn(state: LifecycleState) {
    extra.mockClear();
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false }), DiscoveryModule],
      controllers: [HealthController],
      providers: [{ provide: Lifecycle, useValue: { state } }, ExtraReadiness],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(HealthController);
  }

  it.each<LifecycleState>(['starting', 'draining'])(
    'answers readiness 503 while %s, without asking the dependencies',
    async (state) => {
      const controller = await controllerIn(state);
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

  it('is ready once started, asking every provider marked @ReadinessCheck()', async () => {
    const controller = await controllerIn('ready');
    await expect(controller.ready()).resolves.toMatchObject({
      status: 'ok',
      details: { lifecycle: { status: 'up', state: 'ready' } },
    });
    expect(extra).toHaveBeenCalledTimes(1);
  });

  it('stays live in every state', async () => {
    const controller = await controllerIn('draining');
    expect(controller.live()).toEqual({
      status: 'ok',
      info: {},
      error: {},
      details: {},
    });
  });
});
