// The featured yardstick: the seed ported to NestJS 12 the conventional way, each library used as
// its own docs show (TypeORM, nestjs-pino, helmet, prom-client, terminus, @nestjs/axios with
// cockatiel, an Idempotency-Key interceptor, RFC 9457 problems). It shares no code with the apps
// on purpose. On PostgreSQL with DATABASE_URL, in memory without it.
import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import {
  ArgumentsHost,
  BadRequestException,
  Body,
  CallHandler,
  Catch,
  ConflictException,
  Controller,
  DynamicModule,
  ExceptionFilter,
  ExecutionContext,
  Get,
  Header,
  HttpException,
  Injectable,
  Logger as NestLogger,
  MiddlewareConsumer,
  Module,
  NestInterceptor,
  NestMiddleware,
  NestModule,
  NotFoundException,
  OnModuleInit,
  Param,
  PipeTransform,
  Post,
  Provider,
  ServiceUnavailableException,
  Type,
  UnprocessableEntityException,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  HealthCheck,
  HealthCheckService,
  TerminusModule,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import {
  getRepositoryToken,
  InjectRepository,
  TypeOrmModule,
} from '@nestjs/typeorm';
import {
  IsEmail,
  IsInt,
  IsNotEmpty,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger, LoggerModule } from 'nestjs-pino';
import { Agent, STATUS_CODES } from 'node:http';
import { collectDefaultMetrics, Histogram, register } from 'prom-client';
import { firstValueFrom, Observable, of, concatMap } from 'rxjs';
import {
  Column,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  QueryFailedError,
} from 'typeorm';

const DATABASE_URL = process.env.DATABASE_URL;
const MAX_ID = 2 ** 31 - 1;

// ---- Entities and DTOs ----

@Entity('users')
class User {
  @PrimaryGeneratedColumn() id: number;
  @Column({ length: 200 }) name: string;
  @Column({ length: 254 }) email: string;
  /** The email lower-cased: its unique index keeps emails unique ignoring case. */
  @Index({ unique: true }) @Column({ length: 254 }) email_lower: string;
}

@Entity('orders')
class Order {
  @PrimaryGeneratedColumn() id: number;
  @Column() user_id: number;
  @Column({ length: 200 }) product: string;
}

@Entity('idempotency_keys')
class IdempotencyKey {
  @PrimaryColumn({ length: 255 }) key: string;
  @Column() status: number;
  @Column('jsonb') body: unknown;
}

class CreateUserDto {
  @IsString() @IsNotEmpty() @MaxLength(200) name: string;
  @IsEmail() @MaxLength(254) email: string;
}

class CreateOrderDto {
  @IsInt() @Min(1) @Max(MAX_ID) user_id: number;
  @IsString() @IsNotEmpty() @MaxLength(200) product: string;
}

// ---- Storage: TypeORM repositories, or Map-backed ones with the same interface ----

/** The part of TypeORM's Repository the services use. */
interface Store<T> {
  count(): Promise<number>;
  findOneBy(where: Partial<T>): Promise<T | null>;
  save(entity: Partial<T>): Promise<T>;
}

const uniqueViolation = (error: unknown): boolean =>
  error instanceof QueryFailedError &&
  (error.driverError as { code?: string }).code === '23505';

class MemoryRepository<T extends object> implements Store<T> {
  private readonly rows = new Map<unknown, T>();
  private readonly index = new Map<unknown, unknown>();
  private sequence = 0;

  constructor(
    private readonly primary: keyof T,
    private readonly unique?: keyof T,
  ) {}

  count(): Promise<number> {
    return Promise.resolve(this.rows.size);
  }

  findOneBy(where: Partial<T>): Promise<T | null> {
    const matches = (row: T) =>
      (Object.keys(where) as (keyof T)[]).every((k) => row[k] === where[k]);
    const row =
      this.primary in where
        ? this.rows.get(where[this.primary])
        : [...this.rows.values()].find(matches);
    return Promise.resolve(row && matches(row) ? { ...row } : null);
  }

  save(entity: Partial<T>): Promise<T> {
    const row = { ...entity } as T;
    row[this.primary] ??= ++this.sequence as T[keyof T];
    const id = row[this.primary];
    if (this.unique !== undefined) {
      const owner = this.index.get(row[this.unique]);
      if (owner !== undefined && owner !== id) {
        const error = Object.assign(new Error('duplicate key value'), {
          code: '23505',
        });
        return Promise.reject(new QueryFailedError('INSERT', [], error));
      }
      this.index.set(row[this.unique], id);
    }
    this.rows.set(id, row);
    return Promise.resolve({ ...row });
  }
}

interface Table {
  entity: Type;
  primary: string;
  unique?: string;
}

function storage(tables: Table[]): {
  imports: DynamicModule[];
  providers: Provider[];
} {
  const entities = tables.map((table) => table.entity);
  if (DATABASE_URL)
    return {
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: DATABASE_URL,
          entities,
          synchronize: true,
          extra: { max: Number(process.env.DATABASE_POOL_MAX ?? 10) },
        }),
        TypeOrmModule.forFeature(entities),
      ],
      providers: [],
    };
  return {
    imports: [],
    providers: tables.map(({ entity, primary, unique }) => ({
      provide: getRepositoryToken(entity),
      useValue: new MemoryRepository<Record<string, unknown>>(primary, unique),
    })),
  };
}

// ---- Cross-cutting: problems, metrics, health, idempotency ----

@Catch()
class ProblemFilter implements ExceptionFilter {
  private readonly logger = new NestLogger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const status =
      exception instanceof HttpException ? exception.getStatus() : 500;
    if (!(exception instanceof HttpException))
      this.logger.error(exception, (exception as Error)?.stack);
    const body =
      exception instanceof HttpException ? exception.getResponse() : {};
    const { message, errors } = (
      typeof body === 'object' ? body : { message: body }
    ) as { message?: unknown; errors?: unknown };
    response
      .status(status)
      .type('application/problem+json')
      .json({
        type: 'about:blank',
        title: STATUS_CODES[status] ?? 'Error',
        status,
        detail:
          exception instanceof HttpException && typeof message === 'string'
            ? message
            : STATUS_CODES[status],
        ...(Array.isArray(errors) && { errors }),
      });
  }
}

collectDefaultMetrics();
const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status_code'],
});

@Injectable()
class MetricsMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const end = httpDuration.startTimer();
    res.on('finish', () =>
      end({
        method: req.method,
        route:
          (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
        status_code: res.statusCode,
      }),
    );
    next();
  }
}

@Controller('metrics')
class MetricsController {
  @Get() @Header('Content-Type', register.contentType) metrics() {
    return register.metrics();
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
  ) {}

  @Get('live') @HealthCheck() live() {
    return this.health.check([]);
  }

  @Get('ready') @HealthCheck() ready() {
    return this.health.check(
      DATABASE_URL ? [() => this.db.pingCheck('database')] : [],
    );
  }
}

@Module({
  imports: [
    LoggerModule.forRoot({ pinoHttp: { level: 'info' } }),
    TerminusModule,
  ],
  controllers: [HealthController, MetricsController],
})
class PlatformModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(MetricsMiddleware).forRoutes('*path');
  }
}

@Injectable()
class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @InjectRepository(IdempotencyKey)
    private readonly keys: Store<IdempotencyKey>,
  ) {}

  async intercept(
    context: ExecutionContext,
    next: CallHandler,
  ): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const key = http.getRequest<Request>().header('Idempotency-Key');
    if (!key) return next.handle();
    if (key.length > 255)
      throw new BadRequestException('Idempotency-Key is too long');
    const response = http.getResponse<Response>();
    const stored = await this.keys.findOneBy({ key });
    if (stored) {
      response.status(stored.status).setHeader('Idempotent-Replayed', 'true');
      return of(stored.body);
    }
    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        await this.keys.save({ key, status: response.statusCode, body });
        return body;
      }),
    );
  }
}

@Injectable()
class IdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > MAX_ID)
      throw new BadRequestException('id must be a positive integer');
    return Number(value);
  }
}

// ---- Users ----

@Injectable()
class UsersService implements OnModuleInit {
  constructor(@InjectRepository(User) private readonly users: Store<User>) {}

  async onModuleInit(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    await this.create({ name: 'Alice', email: 'alice@example.com' });
    await this.create({ name: 'Bob', email: 'bob@example.com' });
  }

  async find(id: number): Promise<{ name: string; email: string }> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFoundException(`User ${id} not found`);
    return { name: user.name, email: user.email };
  }

  async create({ name, email }: CreateUserDto): Promise<number> {
    try {
      const user = await this.users.save({
        name,
        email,
        email_lower: email.toLowerCase(),
      });
      return user.id;
    } catch (error) {
      if (uniqueViolation(error))
        throw new ConflictException(`Email ${email} is already taken`);
      throw error;
    }
  }
}

@Controller('users')
class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get(':id') get(@Param('id', IdPipe) id: number) {
    return this.users.find(id);
  }

  @Post() @UseInterceptors(IdempotencyInterceptor) async create(
    @Body() dto: CreateUserDto,
  ) {
    return { user_id: await this.users.create(dto) };
  }
}

const usersStorage = storage([
  { entity: User, primary: 'id', unique: 'email_lower' },
  { entity: IdempotencyKey, primary: 'key' },
]);

@Module({
  imports: [PlatformModule, ...usersStorage.imports],
  controllers: [UsersController],
  providers: [...usersStorage.providers, UsersService, IdempotencyInterceptor],
})
class UsersAppModule {}

// ---- Orders ----

type UserView = { name: string; email: string };
/** The deadline of a call to users; bench/instructions.ts raises it, as valgrind runs slowly. */
const USERS_TIMEOUT_MS = Number(process.env.USERS_TIMEOUT_MS ?? 2000);

@Injectable()
class UsersClient {
  private readonly policy = wrap(
    retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new ConsecutiveBreaker(5),
    }),
    timeout(USERS_TIMEOUT_MS, TimeoutStrategy.Aggressive),
  );

  constructor(private readonly http: HttpService) {}

  /** The user, or null when the users service says 404 (an answer, not a failure). */
  async find(id: number): Promise<UserView | null> {
    try {
      const { status, data } = await this.policy.execute(({ signal }) =>
        firstValueFrom(
          this.http.get<UserView>(`/users/${id}`, {
            signal,
            validateStatus: (code) => code === 200 || code === 404,
          }),
        ),
      );
      return status === 200 ? { name: data.name, email: data.email } : null;
    } catch (error) {
      throw new ServiceUnavailableException(
        'The users service is unavailable',
        {
          cause: error,
        },
      );
    }
  }
}

@Injectable()
class OrdersService implements OnModuleInit {
  constructor(
    @InjectRepository(Order) private readonly orders: Store<Order>,
    private readonly users: UsersClient,
  ) {}

  async onModuleInit(): Promise<void> {
    if ((await this.orders.count()) > 0) return;
    await this.orders.save({ user_id: 1, product: 'Laptop' });
    await this.orders.save({ user_id: 2, product: 'Smartphone' });
  }

  async find(id: number) {
    const order = await this.orders.findOneBy({ id });
    if (!order) throw new NotFoundException(`Order ${id} not found`);
    const user = await this.users.find(order.user_id);
    return { user_id: order.user_id, product: order.product, user };
  }

  async create({ user_id, product }: CreateOrderDto): Promise<number> {
    if (!(await this.users.find(user_id)))
      throw new UnprocessableEntityException(`User ${user_id} does not exist`);
    return (await this.orders.save({ user_id, product })).id;
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get(':id') get(@Param('id', IdPipe) id: number) {
    return this.orders.find(id);
  }

  @Post() @UseInterceptors(IdempotencyInterceptor) async create(
    @Body() dto: CreateOrderDto,
  ) {
    return { order_id: await this.orders.create(dto) };
  }
}

const ordersStorage = storage([
  { entity: Order, primary: 'id' },
  { entity: IdempotencyKey, primary: 'key' },
]);

@Module({
  imports: [
    PlatformModule,
    ...ordersStorage.imports,
    HttpModule.register({
      baseURL: process.env.USERS_SERVICE_URL,
      timeout: USERS_TIMEOUT_MS,
      httpAgent: new Agent({ keepAlive: true }),
    }),
  ],
  controllers: [OrdersController],
  providers: [
    ...ordersStorage.providers,
    OrdersService,
    UsersClient,
    IdempotencyInterceptor,
  ],
})
class OrdersAppModule {}

// ---- Bootstrap ----

async function main(): Promise<void> {
  const app = await NestFactory.create(
    process.argv[2] === 'orders' ? OrdersAppModule : UsersAppModule,
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.use(helmet());
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({
          message: 'The request body is invalid',
          errors: errors.flatMap((error) =>
            Object.values(error.constraints ?? {}).map((detail) => ({
              pointer: `#/${error.property}`,
              detail,
            })),
          ),
        }),
    }),
  );
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

void main();
