//! Child processes that end with their parent.
//!
//! The supervisor (connector hosts) and the demo (core, simulator, hosts, cargo) start children that
//! must not outlive them: an orphaned connector host keeps streaming, and the supervisor started
//! next to replace the dead one starts a second host for the same connector. [`spawn`] starts a
//! `tokio::process::Command` with the Linux parent-death signal set in the child
//! (`prctl(PR_SET_PDEATHSIG)`, prctl(2)), so the kernel signals the child when its parent goes,
//! however it goes, `kill -9` included.
//!
//! Two details of prctl(2) shape this module:
//!
//! - The signal is sent when the *thread* that created the child exits, not the process. Tokio's
//!   blocking-pool threads retire after a short idle time, and any worker thread of a multi-thread
//!   runtime may be the one that calls `spawn`, so every child is created on one dedicated spawner
//!   thread that lives until the process exits.
//! - If the parent dies between `fork` and the `prctl` call, no signal comes: the child checks
//!   `getppid()` right after setting it and exits if it has already been re-parented.
//!
//! The signal is SIGTERM, not SIGKILL: every riskgate binary stops on SIGTERM within its own
//! deadline (the connector host's `--stop-deadline`, the core's `shutdown_grace`, the simulator's
//! one second), acknowledging its last batch and flushing its store on the way, and cargo stops
//! its compilers. SIGKILL would skip that for no gain in certainty, since none of them ignores
//! SIGTERM.
//!
//! This is one of the few modules allowed `unsafe`: the `pre_exec` hook below.

use std::{
    io,
    sync::{mpsc, OnceLock},
};

use nix::{
    errno::Errno,
    sys::{prctl, signal::Signal},
    unistd::{getpid, getppid},
};
use tokio::{
    process::{Child, Command},
    runtime::Handle,
    sync::oneshot,
};

/// The signal a child gets when its parent ends (see the module docs for why SIGTERM).
pub const PARENT_DEATH_SIGNAL: Signal = Signal::SIGTERM;

/// One spawn request for the spawner thread.
struct Job {
    command: Command,
    /// The caller's runtime, which reaps the child and drives its pipes.
    runtime: Handle,
    reply: oneshot::Sender<io::Result<Child>>,
}

/// Starts `command` so that the child receives [`PARENT_DEATH_SIGNAL`] when this process ends.
///
/// Must be called within a Tokio runtime (like `Command::spawn`); the child belongs to that runtime.
/// Everything else about the command (arguments, environment, pipes, `kill_on_drop`) is the caller's.
pub async fn spawn(mut command: Command) -> io::Result<Child> {
    die_with_parent(&mut command);
    let (reply, answer) = oneshot::channel();
    let job = Job {
        command,
        runtime: Handle::current(),
        reply,
    };
    spawner()
        .send(job)
        .map_err(|_| io::Error::other("the process spawner thread is gone"))?;
    answer
        .await
        .map_err(|_| io::Error::other("the process spawner thread dropped the request"))?
}

/// The channel to the spawner thread, started on first use. The sender lives in a static, so the
/// channel never closes and the thread runs until the process exits. If the thread cannot start,
/// its receiver is dropped and every request fails with an error.
fn spawner() -> &'static mpsc::Sender<Job> {
    static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (sender, jobs) = mpsc::channel();
        let _ = std::thread::Builder::new()
            .name("riskgate-spawner".to_owned())
            .spawn(move || run_spawner(jobs));
        sender
    })
}

/// The spawner thread: creates each requested child and hands it back.
fn run_spawner(jobs: mpsc::Receiver<Job>) {
    for Job {
        mut command,
        runtime,
        reply,
    } in jobs
    {
        let _entered = runtime.enter();
        let _ = reply.send(command.spawn());
    }
}

/// Makes the child of `command` ask for [`PARENT_DEATH_SIGNAL`] when this process ends, and exit at
/// once if this process already ended before it could ask.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    let parent = getpid();
    let hook = move || -> io::Result<()> {
        prctl::set_pdeathsig(PARENT_DEATH_SIGNAL)?;
        // Re-parented already: the parent died before the line above, so no signal will come.
        if getppid() != parent {
            return Err(Errno::ESRCH.into());
        }
        Ok(())
    };
    // SAFETY: `pre_exec` runs the hook in the forked child before `exec`, where only
    // async-signal-safe work is allowed (signal-safety(7)). The hook makes two system calls,
    // prctl(2) and getppid(2), which are async-signal-safe, reads a captured `Pid` (a plain
    // integer), and builds its error from a raw errno value (`io::Error::from_raw_os_error`),
    // which does not allocate. It touches no lock and no memory shared with the parent. An error
    // makes the child exit before `exec` and `spawn` report it.
    unsafe {
        command.pre_exec(hook);
    }
}
