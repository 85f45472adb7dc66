import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EngineRuntime } from './engine-runtime';
import { ENGINE_COMMAND_HANDLERS } from './engine.commands';

/** The engine's Nest shell: command handlers over the runtime. The runtime is built before Nest. */
@Module({})
export class EngineModule {
  static forRuntime(runtime: EngineRuntime): DynamicModule {
    return {
      module: EngineModule,
      global: true,
      imports: [CqrsModule.forRoot()],
      providers: [{ provide: EngineRuntime, useValue: runtime }, ...ENGINE_COMMAND_HANDLERS],
      exports: [EngineRuntime, CqrsModule],
    };
  }
}
