import { Controller, Get, Post, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuthModule } from './auth.module';
import { AuthSettings } from './auth.settings';
import { Public, RequireScopes } from './scopes.decorator';

// The defaults: no issuer, auth off.
const OFF = new AuthSettings();

@Controller('things')
class ThingsController {
  @Get()
  @RequireScopes('things:read')
  list() {
    return [];
  }

  @Post()
  create() {
    return {};
  }
}

@Controller('more')
class MoreController {
  @Get()
  list() {
    return [];
  }
}

@Public()
@Controller('open')
class OpenController {
  @Get()
  get() {
    return {};
  }
}

// Made anew for each request: Nest holds no instance of it at start, only its class.
@Controller({ path: 'per-request', scope: Scope.REQUEST })
class PerRequestController {
  @Get()
  list() {
    return [];
  }
}

async function boot(...controllers: (new () => object)[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [AuthModule.forRoot('test', OFF)],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

describe('RouteDeclarations', () => {
  it('refuses to start an app with a route that declares no scopes and is not public, auth off too', async () => {
    await expect(boot(ThingsController, OpenController)).rejects.toThrow(
      'Routes without @RequireScopes(...) or @Public(): ThingsController.create',
    );
  });

  it('names every undeclared route in the one refusal, comma-separated', async () => {
    await expect(boot(ThingsController, MoreController)).rejects.toThrow(
      'Routes without @RequireScopes(...) or @Public(): ThingsController.create, MoreController.list',
    );
  });

  it('checks a request-scoped controller too, which has no instance until a request comes', async () => {
    await expect(boot(PerRequestController)).rejects.toThrow(
      'Routes without @RequireScopes(...) or @Public(): PerRequestController.list',
    );
  });

  it('starts when every route declares one, on the method or the controller', async () => {
    await expect(boot(OpenController)).resolves.toBeUndefined();
  });
});
