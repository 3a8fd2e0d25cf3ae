//! Load generator of `scripts/bench-modbus.sh`: K Modbus TCP connections,
//! each a tokio-modbus client sending its next request as soon as the
//! previous answer arrived, on one thread (so the generator uses at most one
//! core of the machine's two and its own CPU is easy to report).
//!
//! `modbus-load ADDR K MODE SECONDS` with MODE `poll` (function 4: the
//! blocks of registers 100–159 an energy manager polls, one request per
//! block) or `write` (function 16: AMPERE_VOLATILE, register 299, cycling
//! 6–16 A). Prints `ready` once every connection answered a first request,
//! then after SECONDS one JSON line: requests, exceptions, seconds, the
//! generator's CPU seconds (utime+stime of this process over the window).

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio_modbus::client::{Context, Reader, Writer};
use tokio_modbus::slave::Slave;

/// The function 4 blocks of 100–159 (`modbus-en.md`; the gaps 102–104,
/// 122–127, 130–131 and 134–143 are unmapped): 39 registers in 5 requests.
const POLL: &[(u16, u16)] = &[(100, 2), (105, 17), (128, 2), (132, 2), (144, 16)];

/// AMPERE_VOLATILE.
const AMPERE_VOLATILE: u16 = 299;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Poll,
    Write,
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat")
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux (sysconf(_SC_CLK_TCK)); no libc needed for it
    ticks as f64 / 100.0
}

/// One request of the mode's sequence; `Ok(false)`: a Modbus exception.
async fn one(ctx: &mut Context, mode: Mode, i: usize) -> std::io::Result<bool> {
    let answered = match mode {
        Mode::Poll => {
            let (addr, count) = POLL[i % POLL.len()];
            match ctx.read_input_registers(addr, count).await {
                Ok(Ok(words)) => words.len() == usize::from(count),
                Ok(Err(_)) => false,
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        Mode::Write => {
            let amp = 6 + (i % 11) as u16;
            match ctx.write_multiple_registers(AMPERE_VOLATILE, &[amp]).await {
                Ok(Ok(())) => true,
                Ok(Err(_)) => false,
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
    };
    Ok(answered)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: modbus-load ADDR K poll|write SECONDS");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[1].parse().expect("ADDR");
    let k: usize = args[2].parse().expect("K");
    let mode = match args[3].as_str() {
        "poll" => Mode::Poll,
        "write" => Mode::Write,
        m => panic!("unknown mode {m}"),
    };
    let seconds: f64 = args[4].parse().expect("SECONDS");

    let mut ctxs = Vec::with_capacity(k);
    for _ in 0..k {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut ctx = tokio_modbus::client::tcp::attach_slave(stream, Slave(1));
        // warm-up: every connection answered once before the window opens
        assert!(
            one(&mut ctx, mode, 0).await.expect("first request"),
            "first request refused"
        );
        ctxs.push(ctx);
    }
    println!("ready");
    let requests = Rc::new(Cell::new(0u64));
    let exceptions = Rc::new(Cell::new(0u64));
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(seconds);
    let local = tokio::task::LocalSet::new();
    for (c, mut ctx) in ctxs.into_iter().enumerate() {
        let (requests, exceptions) = (requests.clone(), exceptions.clone());
        local.spawn_local(async move {
            let mut i = c;
            while Instant::now() < end {
                match one(&mut ctx, mode, i).await {
                    Ok(true) => requests.set(requests.get() + 1),
                    Ok(false) => exceptions.set(exceptions.get() + 1),
                    Err(e) => panic!("connection {c}: {e}"),
                }
                i += 1;
            }
        });
    }
    local.await;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "{{\"requests\":{},\"exceptions\":{},\"seconds\":{wall:.3},\"gen_cpu_s\":{cpu:.2}}}",
        requests.get(),
        exceptions.get()
    );
}
