//! bevy-headless: a headless Bevy app hot-patched through Bevy's own `HotPatchPlugin`. Every
//! ~150 ms the `report` system prints one line:
//!
//! `tick=<Ticks.n> score=<Score.points> msg=<message> pid=<pid>`
//!
//! Tests edit the literal in `report` (a system body edit: live, `tick` keeps counting because the
//! `Ticks` resource survives), add a field to `Score` (a component's layout: restart), and add a
//! parameter to `report` (a system signature: restart, since Bevy keeps calling the old one).

use bevy::app::hotpatch::HotPatchPlugin;
use bevy::app::ScheduleRunnerPlugin;
use bevy::prelude::*;
use std::io::Write;
use std::time::Duration;

/// Frames counted so far; kept across patches.
#[derive(Resource, Default)]
struct Ticks {
    n: u64,
}

/// One entity carries a score that grows every frame.
#[derive(Component)]
struct Score {
    points: u64,
}

fn main() {
    App::new()
        .add_plugins(MinimalPlugins.set(ScheduleRunnerPlugin::run_loop(Duration::from_millis(150))))
        .add_plugins(HotPatchPlugin)
        .init_resource::<Ticks>()
        .add_systems(Startup, spawn)
        .add_systems(Update, (count, report).chain())
        .run();
}

fn spawn(mut commands: Commands) {
    commands.spawn(Score { points: 0 });
}

fn count(mut ticks: ResMut<Ticks>, mut scores: Query<&mut Score>) {
    ticks.n += 1;
    for mut score in &mut scores {
        score.points += 2;
    }
}

fn report(ticks: Res<Ticks>, scores: Query<&Score>) {
    let points: u64 = scores.iter().map(|s| s.points).sum();
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "tick={} score={} msg={} pid={}", ticks.n, points, "bevy-v1", std::process::id())
        .and_then(|_| out.flush());
    // Ends the app when stdout is gone: an orphaned fixture should not linger.
    if written.is_err() {
        std::process::exit(0);
    }
}
