import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EngineRuntime } from './engine-runtime';

/** The engine's Nest shell: the runtime's own use cases as the CommandBus's handlers. The runtime is built before Nest. */
@Module({})
export class EngineModule {
  static forRuntime(runtime: EngineRuntime): DynamicModule {
    return {
      module: EngineModule,
      global: true,
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: EngineRuntime, useValue: runtime },
        ...runtime.commands.handlers().map((handler) => ({ provide: handler.constructor, useValue: handler })),
      ],
      exports: [EngineRuntime, CqrsModule],
    };
  }
}
