// A layout change of a Bevy resource or component stays restart-class and says why Bevy cannot
// take the new layout (bevy-storage.ts: storage laid out at first registration, systems set up once);
// a plain struct, or a `Component` derive of a file that does not use Bevy, says nothing about Bevy.
import * as assert from 'node:assert/strict';
import { judge, newAnalyzer } from './helpers';

const APP = [
  'use bevy::prelude::*;',
  '',
  '#[derive(Resource, Default)]',
  'struct Ticks {',
  '    n: u64,',
  '}',
  '',
  '/// a doc comment between the derive and the item',
  '#[derive(bevy::prelude::Component, Debug)]',
  'struct Score {',
  '    points: u64,',
  '}',
  '',
  '#[derive(Component)]',
  'enum Mode {',
  '    Idle,',
  '    Run(u32),',
  '}',
  '',
  '#[derive(Debug, Clone)]',
  'struct Plain {',
  '    a: u32,',
  '}',
  '',
  'fn count(mut ticks: ResMut<Ticks>) {',
  '    ticks.n += 1;',
  '}',
].join('\n');

const BEVY = /Bevy keeps/;

describe('analysis: Bevy resources and components whose layout changed', () => {
  it('a resource gains a field: restart, and the message says Bevy cannot re-register it', async () => {
    const fs = await judge(APP, APP.replace('    n: u64,\n', '    n: u64,\n    best: u64,\n'));
    assert.equal(fs.length, 1, JSON.stringify(fs, null, 1));
    assert.equal(fs[0].code, 'struct-layout-changed');
    assert.equal(fs[0].severity, 'restart');
    assert.match(fs[0].message, /requires restart/);
    assert.match(fs[0].message, /Bevy keeps the resource `Ticks` in the World in storage laid out at its first registration, and its systems keep the ComponentId they were set up with: a running World cannot re-register it, so its values cannot be migrated$/);
  });

  it('a component (derived through a path, after a doc comment) and a component enum: the same, as components', async () => {
    const fs = await judge(APP, APP.replace('    points: u64,\n', '    points: u64,\n    bonus: u64,\n').replace('    Run(u32),', '    Run(u64),'));
    const score = fs.find((f) => f.item === 'Score');
    const mode = fs.find((f) => f.item === 'Mode');
    assert.equal(score?.code, 'struct-layout-changed', JSON.stringify(fs, null, 1));
    assert.match(score.message, /Bevy keeps the component `Score`/);
    assert.equal(mode?.code, 'enum-layout-changed');
    assert.match(mode.message, /Bevy keeps the component `Mode`/);
  });

  it('a plain struct in the same Bevy file: restart, nothing about Bevy', async () => {
    const fs = await judge(APP, APP.replace('    a: u32,', '    a: u64,'));
    assert.equal(fs.length, 1, JSON.stringify(fs, null, 1));
    assert.equal(fs[0].code, 'struct-layout-changed');
    assert.doesNotMatch(fs[0].message, BEVY);
  });

  it('a `Component` derive in a file that does not use Bevy (another ECS): nothing about Bevy', async () => {
    const specs = APP.replace('use bevy::prelude::*;', 'use specs::prelude::*;').replace('bevy::prelude::Component', 'specs::Component');
    const fs = await judge(specs, specs.replace('    points: u64,\n', '    points: u64,\n    bonus: u64,\n'));
    assert.equal(fs.length, 1, JSON.stringify(fs, null, 1));
    assert.doesNotMatch(fs[0].message, BEVY);
  });

  it('a body edit of a system is no layout finding and says nothing about Bevy', async () => {
    const fs = await judge(APP, APP.replace('ticks.n += 1;', 'ticks.n += 2;'));
    assert.ok(fs.every((f) => !BEVY.test(f.message)), JSON.stringify(fs, null, 1));
    assert.ok(fs.every((f) => f.severity !== 'restart'), JSON.stringify(fs, null, 1));
  });

  it('`impl Component for T` in another file of the crate, and a component embedding a changed plain type', async () => {
    const TYPES = '/ws/game/src/types.rs';
    const IMPLS = '/ws/game/src/impls.rs';
    const OTHER = '/ws/other/src/lib.rs';
    const types = 'pub struct Health {\n    pub hp: u32,\n}\npub struct Stats {\n    pub speed: f32,\n}\n#[derive(bevy::ecs::component::Component)]\npub struct Player {\n    pub stats: Stats,\n}\n';
    const a = await newAnalyzer({ crateOf: (f) => (f.startsWith('/ws/game/') ? 'game' : 'other') });
    a.update(TYPES, types);
    a.update(IMPLS, 'use bevy::ecs::component::{Component, StorageType};\nuse crate::types::Health;\nimpl Component for Health {\n    const STORAGE_TYPE: StorageType = StorageType::Table;\n    type Mutability = bevy::ecs::component::Mutable;\n}\n');
    // another crate's `impl Component for Health` is about another `Health`
    a.update(OTHER, 'use bevy::prelude::*;\npub struct Stats {\n    pub x: u8,\n}\nimpl Component for Stats {}\n');
    a.update(TYPES, types.replace('pub hp: u32,', 'pub hp: u64,').replace('pub speed: f32,', 'pub speed: f64,'));
    const fs = a.findingsFor(TYPES);
    const health = fs.find((f) => f.item === 'Health');
    const stats = fs.find((f) => f.item === 'Stats');
    const player = fs.find((f) => f.item === 'Player');
    assert.match(health?.message ?? '', /Bevy keeps the component `Health`/, JSON.stringify(fs, null, 1));
    assert.equal(stats?.code, 'struct-layout-changed');
    assert.doesNotMatch(stats.message, BEVY, 'Stats is a plain type of this crate (the other crate implements Component for its own Stats)');
    assert.equal(player?.code, 'struct-layout-changed');
    assert.match(player.message, /embeds `Stats`/);
    assert.match(player.message, /Bevy keeps the component `Player`/);
    a.dispose();
  });
});
