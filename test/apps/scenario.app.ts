import { BadRequestException, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions, currentGuardedCall } from '@resilient-llm/nestjs';
import { GuardedCallRunner } from '../../libs/resilient-llm/src/guarded/guarded-call.runner.js';

const messages = [{ role: 'user' as const, content: 'Hello' }];

/** Handlers that exercise one guarded-call behaviour each; `invocations` counts handler runs. */
@Controller()
export class ScenarioController {
  invocations = 0;

  constructor(
    private readonly llm: ResilientLlmClient,
    private readonly runner: GuardedCallRunner,
  ) {}

  @Post('guarded')
  @HttpCode(200)
  @Guarded(500)
  async guarded() {
    this.invocations++;
    const completion = await this.llm.createChatCompletion({ messages });
    return { reply: completion.choices[0].message.content, attempts: currentGuardedCall()?.attempts.length };
  }

  @Post('handler-retry')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 500, retry: 'handler' })
  async handlerRetry() {
    this.invocations++;
    await this.llm.createChatCompletion({ messages });
    return { run: currentGuardedCall()?.attempt };
  }

  @Post('unguarded')
  @HttpCode(200)
  async unguarded() {
    this.invocations++;
    const completion = await this.llm.createChatCompletion({ messages });
    return { reply: completion.choices[0].message.content };
  }

  @Post('nested-runner')
  @HttpCode(200)
  @Guarded(500)
  async nestedRunner() {
    this.invocations++;
    // A service that opens its own guarded call joins the handler's instead of retrying again.
    return this.runner.run({}, async () => (await this.llm.createChatCompletion({ messages })).id);
  }

  @Post('own-error')
  @Guarded(500)
  ownError() {
    this.invocations++;
    throw new BadRequestException({ statusCode: 400, code: 'bad_input', message: 'the handler said no' });
  }

  @Post('single-attempt')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 500, backoff: { maxAttempts: 1 } })
  async singleAttempt() {
    this.invocations++;
    return (await this.llm.createChatCompletion({ messages })).id;
  }

  @Post('tight-deadline')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 500, backoff: { deadlineMs: 250 } })
  async tightDeadline() {
    this.invocations++;
    return (await this.llm.createChatCompletion({ messages })).id;
  }

  @Post('stream')
  @HttpCode(200)
  @Guarded(500)
  async stream() {
    this.invocations++;
    let text = '';
    for await (const chunk of await this.llm.streamChatCompletion({ messages })) text += chunk.choices[0]?.delta.content ?? '';
    return { text, usage: currentGuardedCall()?.usage };
  }

  @Post('unpriced-model')
  @Guarded(500)
  async unpricedModel() {
    this.invocations++;
    return this.llm.createChatCompletion({ model: 'mystery-model', messages });
  }
}

@Guarded({ estimatedTokens: 300, backoff: { maxAttempts: 2 } })
@Controller('class-guarded')
export class ClassGuardedController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post()
  @HttpCode(200)
  async reply() {
    return (await this.llm.createChatCompletion({ messages })).id;
  }
}

export function scenarioModule(options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot(options)],
    controllers: [ScenarioController, ClassGuardedController],
  })
  class ScenarioModule {}
  return ScenarioModule;
}
