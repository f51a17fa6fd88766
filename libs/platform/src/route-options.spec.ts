import { Controller, Get, Post } from '@nestjs/common';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { AnyCaller, BodyLimit, PublicRoute, Roles } from './route-options.js';

const configOf = (handler: unknown) => Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler as object) as Record<string, unknown>;

@Roles('admin')
@Controller('things')
class Things {
  @Get()
  list(): void {}

  @Get(':id')
  @Roles('department', 'consumer')
  get(): void {}

  @Post(':id/upload')
  @BodyLimit(1024)
  upload(): void {}

  @Get('latest')
  @AnyCaller()
  latest(): void {}

  /** Not a route: left alone. */
  helper(): void {}
}

@PublicRoute()
@Controller('probes')
class Probes {
  @Get()
  live(): void {}
}

describe('route declarations', () => {
  it('on a controller are the default of every route method that has none of its own', () => {
    expect(configOf(Things.prototype.list).access).toEqual({ roles: ['admin'] });
    expect(configOf(Things.prototype.get).access).toEqual({ roles: ['department', 'consumer'] });
    expect(configOf(Things.prototype.latest).access).toEqual({ roles: 'any' });
    expect(configOf(Things.prototype.helper)).toBeUndefined();
    expect(configOf(Probes.prototype.live).access).toEqual({ public: true });
  });

  it('merge: a body limit and the class roles on one route', () => {
    expect(configOf(Things.prototype.upload)).toEqual({ bodyLimit: 1024, access: { roles: ['admin'] } });
  });

  it('refuse @Roles() without a role (@AnyCaller says "every caller")', () => {
    expect(() => Roles()).toThrow('@AnyCaller()');
  });
});
