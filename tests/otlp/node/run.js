// Real OpenTelemetry clients for the gateway tests (tests/otlp/test_gateway.sh).
//
//   node run.js export <proto|json> <gzip|none> <spans>
//       the SDK's OTLP exporter sends <spans> GenAI chat spans (current
//       conventions, content as JSON strings) in one export
//   node run.js traceloop     OpenLLMetry's OpenAI instrumentation (openai 4)
//   node run.js openinference OpenInference's OpenAI instrumentation (openai 5)
//       each drives the real `openai` client against a fake OpenAI-compatible
//       server on loopback: a chat with a tool call, then a streamed chat
//
//   node run.js loop <exports> <spans>
//       <exports> exports of <spans> spans one after the other; an export that
//       fails (connection refused or reset, 503 after the exporter's own
//       retries) is sent again, the same spans with the same ids, until it is
//       accepted or 90 s have passed: a client that retries
//
// Environment: GW_URL (http://127.0.0.1:PORT/v1/traces), GW_KEY (project key).
// Exit status 0 when every export was accepted (ExportResultCode.SUCCESS).
'use strict';
const http = require('http');
const { ExportResultCode } = require('@opentelemetry/core');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const api = require('@opentelemetry/api');

const url = process.env.GW_URL;
const key = process.env.GW_KEY;
if (!url || !key) {
  console.error('GW_URL and GW_KEY must be set');
  process.exit(2);
}

// An exporter whose every export result is remembered, so the process can
// fail when the gateway did not accept something.
function exporter(kind, gzip) {
  const mod = kind === 'proto' ? require('@opentelemetry/exporter-trace-otlp-proto')
                               : require('@opentelemetry/exporter-trace-otlp-http');
  const exp = new mod.OTLPTraceExporter({
    url,
    headers: { Authorization: `Bearer ${key}` },
    compression: gzip ? 'gzip' : 'none',
    timeoutMillis: 30000,
  });
  const results = [];
  const inner = exp.export.bind(exp);
  exp.export = (spans, cb) => inner(spans, (r) => { results.push(r); cb(r); });
  return { exp, results };
}

function provider(exp, service) {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.0.0',
                                       'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(exp)],
  });
}

async function finish(prov, results) {
  await prov.forceFlush();
  await prov.shutdown();
  const bad = results.filter((r) => r.code !== ExportResultCode.SUCCESS);
  if (results.length === 0 || bad.length) {
    console.error(`exports: ${results.length}, failed: ${bad.length}`, bad.map((r) => String(r.error)));
    process.exit(1);
  }
  console.log(`exports: ${results.length}, all accepted`);
}

async function runExport(kind, gzip, n) {
  const { exp, results } = exporter(kind, gzip);
  // One export with all spans: a processor that batches them by hand.
  const spans = [];
  const prov = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'exporter-test', 'service.version': '1.0.0' }),
    spanProcessors: [{ onStart() {}, onEnd(s) { spans.push(s); }, forceFlush: async () => {},
                       shutdown: async () => {} }],
  });
  const tracer = prov.getTracer('flywheel-test', '0.1');
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('chat gpt-4o-mini', { kind: api.SpanKind.CLIENT });
    span.setAttributes({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.5,
      'gen_ai.usage.input_tokens': 12 + i,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${i}` }] }]),
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', finish_reason: 'stop',
                                                  parts: [{ type: 'text', content: `answer ${i}` }] }]),
      'app.flag': i % 2 === 0,
    });
    span.end();
  }
  const done = await new Promise((resolve) => exp.export(spans, resolve));
  await exp.shutdown();
  if (done.code !== ExportResultCode.SUCCESS) {
    console.error('export failed:', String(done.error));
    process.exit(1);
  }
  console.log(`exported ${n} spans: accepted`);
}

async function runLoop(exports, n) {
  const { exp } = exporter('proto', false);
  const spans = [];
  const prov = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'loop-test' }),
    spanProcessors: [{ onStart() {}, onEnd(s) { spans.push(s); }, forceFlush: async () => {},
                       shutdown: async () => {} }],
  });
  const tracer = prov.getTracer('flywheel-test', '0.1');
  const deadline = Date.now() + 90000;
  let attempts = 0;
  for (let e = 0; e < exports; e++) {
    spans.length = 0;
    for (let i = 0; i < n; i++) {
      const span = tracer.startSpan('chat m', { kind: api.SpanKind.CLIENT });
      span.setAttributes({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm',
                           'loop.export': e, 'loop.span': i });
      span.end();
    }
    const batch = spans.slice();
    for (;;) {
      attempts++;
      const r = await new Promise((resolve) => exp.export(batch, resolve));
      if (r.code === ExportResultCode.SUCCESS) break;
      if (Date.now() > deadline) {
        console.error(`export ${e} still failing: ${String(r.error)}`);
        process.exit(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // an app's pace, not a flood
  }
  console.log(`exported ${exports * n} spans in ${attempts} attempts`);
}

// A fake OpenAI-compatible server: a tool call when tools are offered, text
// otherwise; SSE chunks when stream is true. Usage 20/7/27 with 4 cached.
function fakeOpenAI() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const r = JSON.parse(body || '{}');
        const model = 'gpt-4o-mini-2024-07-18';
        const usage = { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27,
                        prompt_tokens_details: { cached_tokens: 4 } };
        if (r.stream) {
          res.writeHead(200, { 'Content-Type': 'text/event-stream' });
          const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk',
            created: 1765000000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
          res.write(chunk({ role: 'assistant', content: 'Sunny' }, null));
          res.write(chunk({ content: ' in Paris.' }, null));
          res.write(chunk({}, 'stop'));
          res.end('data: [DONE]\n\n');
          return;
        }
        const message = r.tools
          ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }
          : { role: 'assistant', content: 'Hello.' };
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1765000000, model,
          choices: [{ index: 0, message, finish_reason: r.tools ? 'tool_calls' : 'stop' }], usage }));
      });
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

async function runInstrumented(which) {
  const srv = await fakeOpenAI();
  const base = `http://127.0.0.1:${srv.address().port}/v1`;
  const { exp, results } = exporter('proto', false);
  const prov = provider(exp, `${which}-app`);
  let OpenAI;
  if (which === 'traceloop') {
    const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');
    const inst = new OpenAIInstrumentation({ enrichTokens: false });
    inst.setTracerProvider(prov);
    OpenAI = require('openai4');
    inst.manuallyInstrument(OpenAI);
    OpenAI = OpenAI.OpenAI || OpenAI.default || OpenAI;
  } else {
    const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
    const inst = new OpenAIInstrumentation();
    inst.setTracerProvider(prov);
    const mod = require('openai');
    inst.manuallyInstrument(mod);
    OpenAI = mod.OpenAI || mod.default || mod;
  }
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: base });
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const r1 = await client.chat.completions.create({
    model: 'gpt-4o-mini', max_tokens: 100, temperature: 0.2, tools,
    messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Weather in Paris?' }],
  });
  if (!r1.choices[0].message.tool_calls) throw new Error('no tool call from the fake server');
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'And tomorrow?' }],
  });
  let text = '';
  for await (const c of stream) text += (c.choices[0] && c.choices[0].delta.content) || '';
  if (text !== 'Sunny in Paris.') throw new Error(`stream gave "${text}"`);
  await finish(prov, results);
  srv.close();
}

(async () => {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'export') await runExport(a, b === 'gzip', Number(c || 1));
  else if (mode === 'traceloop' || mode === 'openinference') await runInstrumented(mode);
  else if (mode === 'loop') await runLoop(Number(a), Number(b));
  else { console.error('usage: node run.js export|traceloop|openinference ...'); process.exit(2); }
})().catch((e) => { console.error(e); process.exit(1); });
