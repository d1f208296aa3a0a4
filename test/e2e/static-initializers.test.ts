// A changed static initializer is information, and what it says must be what the running app
// does: a static with interior mutability is bound to the app's (it keeps its value), plain
// read-only data is copied into the patch (patched code reads the new value). The real server over
// stdio runs a copy of clients/counter whose tip_message reads two statics; their initializers are
// edited and saved, and each finding's claim is checked against the tick lines of the same process.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../support/counter-fixture';

const TIP_V1 = `#[inline(never)]
fn tip_message() -> &'static str {
    "tip-v1"
}`;
const TIP_STATICS = `static LIMIT: u64 = 7;
static HITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100);

#[inline(never)]
fn tip_message() -> &'static str {
    let hits = HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Box::leak(format!("limit{}-hits{}", LIMIT, hits).into_boxed_str())
}`;

describe('end to end: a changed static initializer says what the running app reads', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let mainRs: string;
  let withStatics: string;

  before(async function () {
    this.timeout(30 * 60_000);
    const fx = prepareCounterFixture('subsecond-lsp-e2e-static-init');
    mainRs = fx.mainRs;
    const v1 = fs.readFileSync(mainRs, 'utf8');
    assert.ok(v1.includes(TIP_V1), 'the counter still has its tip_message');
    withStatics = v1.replace(TIP_V1, TIP_STATICS);
    fs.writeFileSync(mainRs, withStatics);
    client = new TestLspClient({ rootDir: fx.counterDir });
    await client.initialize();
    await client.open(mainRs, withStatics);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => ticksIn(client.logs).find((t) => /^limit7-hits\d+$/.test(t.tip)), 120_000);
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('the atomic keeps its value and the plain u64 is read with its new value, as the two findings say', async () => {
    const edited = withStatics.replace('LIMIT: u64 = 7', 'LIMIT: u64 = 8').replace('AtomicU64::new(100)', 'AtomicU64::new(5000)');
    const before = ticksIn(client.logs).pop()!;
    const n = client.statuses.length;
    fs.writeFileSync(mainRs, edited);
    await client.changeAndSave(mainRs, edited);
    const diags = await client.waitForDiagnostics(mainRs, 'two static-initializer-changed findings', (d) => d.filter((x) => x.code === 'static-initializer-changed').length === 2);
    const said = (name: string) => diags.find((d) => d.message.includes(`static \`${name}\``))!.message;
    assert.match(said('HITS'), /the running app keeps the value it has/);
    assert.match(said('LIMIT'), /patched code reads the new value/);
    assert.ok(diags.every((d) => d.severity === 3), 'information, not a warning');
    await client.waitFor('the patch', () => client.statuses.slice(n).find((s) => s.patch === 'applied'), 180_000);
    const after = await client.waitFor('a tick of patched code', () => ticksIn(client.logs).find((t) => t.tick > before.tick && t.tip.startsWith('limit8-')), 60_000);
    assert.equal(after.pid, before.pid, 'the same process');
    const hits = Number(/hits(\d+)$/.exec(after.tip)![1]);
    assert.ok(hits > 100 && hits < 5000, `HITS went on counting from the app's value, not from the new initializer: ${after.tip}`);
  });
});
