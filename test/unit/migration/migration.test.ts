// What holds a HotState type by value (read from the source text), and the decision to migrate
// from the layout gate's changes: all of them covered, or none migrates.
import { strict as assert } from 'node:assert';
import { blankCommentsAndStrings, coveredBy, decideMigration, describeMigration, holdersIn } from '../../../server/src/migration';
import type { LayoutChange, TypeLayout } from '../../../server/src/layout-gate';

const layout = (name: string, fields: Array<[string, number, string]>, size: number): TypeLayout =>
  ({ name, kind: 'struct', size, align: 8, fields: fields.map(([n, offset, type]) => ({ name: n, offset, type })), variants: [] }) as unknown as TypeLayout;

const change = (type: string, before: TypeLayout, after: TypeLayout): LayoutChange => ({ type, before, after, summary: `${type}: changed` });

describe('migration: holders in the source text', () => {
  const text = [
    '// State in a comment holds nothing',
    'use crate::State;',
    '#[derive(Serialize, Deserialize)]',
    'pub struct State { pub count: u64 }',
    'impl Default for State { fn default() -> Self { State { count: 0 } } }',
    'impl State { fn f(&self) {} }',
    'fn tick(s: &mut State, t: &State, u: &\'a mut State) { let x = "State"; }',
    'fn main() { let h = HotState::new(State::default()); let g: HotState<State> = HotState::<State>::new(State { count: 1 }); }',
  ].join('\n');

  it('finds no holder in definitions, impls, uses, references, paths, struct expressions, handles, comments, strings', () => {
    assert.deepEqual(holdersIn('/w/main.rs', text, 'State'), []);
  });

  it('finds fields, statics, by-value arguments and returns, generic arguments', () => {
    const more = [
      text,
      'struct Game { state: State }',
      'static SPARE: Mutex<Option<State>> = Mutex::new(None);',
      'fn take(s: State) {}',
      'fn make() -> State { todo!() }',
      'fn parse(t: &str) { serde_json::from_str::<State>(t); }',
      'struct Level(State);',
    ].join('\n');
    const found = holdersIn('/w/main.rs', more, 'State').map((h) => h.line);
    assert.deepEqual(found, [8, 9, 10, 11, 12, 13]);
    assert.equal(holdersIn('/w/main.rs', more, 'State')[1].text, 'static SPARE: Mutex<Option<State>> = Mutex::new(None);');
  });

  it('finds thread-locals, values kept in locals or captured by closures, and values moved into trait objects', () => {
    const more = [
      text,
      'thread_local! { static CURRENT: RefCell<State> = RefCell::new(State::default()); }',
      'fn run() { let spare = State::default(); let show = move || println!("{}", spare.count); subsecond::call(show); }',
      'fn keep(v: &mut Vec<Box<dyn Any>>) { v.push(Box::new(State { count: 2 }) as Box<dyn Any>); }',
      'fn also() { let backup = crate::app::State::new(); }',
    ].join('\n');
    const found = holdersIn('/w/main.rs', more, 'State');
    assert.deepEqual(found.map((h) => h.line), [8, 9, 10, 11]);
    assert.match(found[1].text, /let spare = State::default\(\)/);
  });

  it('finds no holder in patterns, non-call paths, values made straight into a handle or in its own impls', () => {
    const src = [
      'impl State { fn new() -> Self { State { count: 0 } } fn reset(&mut self) { *self = State::new(); } }',
      'impl<\'de> Deserialize<\'de> for State { fn deserialize<D>(d: D) -> Result<Self, D::Error> { Ok(State { count: 1 }) } }',
      'fn f(s: &State) -> u64 { let State { count, .. } = s; match s { State { count: 0 } => 0, _ => State::MAX } }',
      'fn g(e: &State) { match e { State::Idle(_) => {}, State::Busy(n) if *n > 1 => {} } }',
      'fn main() { let h = subsecond_agent::HotState::new(State::new()); let k = HotState::<State>::new(State { count: 3 }); }',
      'fn reset(h: &HotState<State>) { h.call(|s| *s = State::default()); h.call(|s| { *s = State { count: 0 }; }); }',
    ].join('\n');
    assert.deepEqual(holdersIn('/w/main.rs', src, 'State'), []);
    // A pattern nested in another is not told from a value: counted (restart-class, never unsafe).
    assert.equal(holdersIn('/w/a.rs', 'fn g(e: &Mode) { if let Mode::On(State { count }) = e {} }', 'State').length, 1);
    // A comparison is no assignment: the value made for it counts.
    assert.equal(holdersIn('/w/a.rs', 'fn g(s: &State) -> bool { *s == State::default() }', 'State').length, 1);
  });

  it('a longer name is not the type', () => {
    assert.deepEqual(holdersIn('/w/a.rs', 'struct G { s: GameState, t: StateMachine }', 'State'), []);
  });

  it('blanks comments and literals without moving lines', () => {
    const src = 'a /* x\ny */ b // c\n"d\\"e" r#"f"# \'g\' h';
    const out = blankCommentsAndStrings(src);
    assert.equal(out.length, src.length);
    assert.equal(out.split('\n').length, 3);
    assert.match(out, /^a\s+\n\s+b\s+\n\s+h$/);
  });
});

describe('migration: the decision', () => {
  const before = layout('app::State', [['count', 0, 'u64']], 8);
  const after = layout('app::State', [['count', 0, 'u64'], ['speed', 8, 'f32']], 16);
  const crates = ['app'];
  const none = () => [];

  it('migrates a registered type nothing else holds, with its serde temporaries', () => {
    const d = decideMigration(
      [
        change('app::State', before, after),
        change('core::result::Result<app::State, serde_json::error::Error>', before, after),
        change("app::_::<impl serde::de::Deserialize<'de> for app::State>::deserialize::__Field", before, after),
      ],
      ['app::State'],
      none,
      crates,
    );
    assert.equal(d.kind, 'migrate');
    if (d.kind === 'migrate') {
      assert.deepEqual(d.plan.types, ['app::State']);
      assert.match(d.plan.descriptions.get('app::State')!, /^`State` gains `speed`: f32/);
    }
  });

  it('stays restart-class when something else holds it, naming it', () => {
    const d = decideMigration([change('app::State', before, after)], ['app::State'], () => [{ file: '/w/src/main.rs', line: 23, text: 'static SPARE: Mutex<Option<State>> = Mutex::new(None);' }], crates);
    assert.equal(d.kind, 'restart');
    if (d.kind === 'restart') assert.match(d.reasons.get('app::State')!, /held by value outside its HotState handles: `static SPARE.*\(main\.rs:24\)/);
  });

  it('stays restart-class when any other type changed, or the type is not registered', () => {
    const other = change('app::Other', before, after);
    assert.equal(decideMigration([change('app::State', before, after), other], ['app::State'], none, crates).kind, 'restart');
    assert.equal(decideMigration([change('app::State', before, after)], ['app::Else'], none, crates).kind, 'restart');
    // A workspace type holding it by value is a holder, never a temporary.
    assert.equal(coveredBy('app::Game', ['app::State'], crates), undefined);
    assert.equal(coveredBy('app::Wrapper<app::State>', ['app::State'], crates), undefined);
    assert.equal(coveredBy('core::option::Option<app::State>', ['app::State'], crates), 'app::State');
  });

  it('describes removed and retyped fields', () => {
    const c = change('app::State', layout('app::State', [['count', 0, 'u64'], ['level', 8, 'alloc::string::String']], 32), layout('app::State', [['count', 0, 'i64']], 8));
    assert.equal(describeMigration(c), '`State` loses `level`; retypes `count`: u64 → i64');
  });
});
