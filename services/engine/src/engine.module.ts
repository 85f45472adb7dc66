import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EngineRuntime } from './engine-runtime';
import { COMMAND_PORTS, ENGINE_COMMAND_HANDLERS } from './engine.commands';

/** The engine's Nest shell: its use cases as the CommandBus's handlers, over the runtime's ports. The runtime is built before Nest. */
@Module({})
export class EngineModule {
  static forRuntime(runtime: EngineRuntime): DynamicModule {
    return {
      module: EngineModule,
      global: true,
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: EngineRuntime, useValue: runtime },
        { provide: COMMAND_PORTS, useValue: runtime.commands.ports },
        ...ENGINE_COMMAND_HANDLERS,
      ],
      exports: [EngineRuntime, CqrsModule],
    };
  }
}
