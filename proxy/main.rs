//! isoproxy: a Pingora reverse proxy that runs Cloudflare Workers scripts
//! in V8 isolates. See ARCHITECTURE.md for the life of a request.

#![forbid(unsafe_code)]

mod admin;
mod authority;
mod config;
mod cron;
mod deployment;
mod dns;
mod downstream;
mod edge;
mod egress;
mod fleet;
mod forwarded;
mod hops;
mod logging;
mod metrics;
mod origin;
mod pass;
mod proxy_threads;
mod reload;
mod route;
mod scheduler;
mod signals;
mod startup;
mod tls;
mod websocket;

/// Rust allocations go through mimalloc (see Cargo.toml); V8 keeps its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use clap::Parser;
use pingora::connectors::http::Connector;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{RunArgs, Server};
use pingora::services::listening::Service;
use plugin_runtime::{Runtime, RuntimeOptions};

use crate::admin::Admin;
use crate::deployment::Deployment;
use crate::edge::{AppState, Edge};

/// Command line (DESIGN.md §1).
#[derive(Parser, Debug)]
#[command(
    name = "isoproxy",
    version,
    about = "An edge proxy that runs Workers scripts in V8 isolates"
)]
struct Cli {
    /// The configuration file.
    #[arg(short, long, default_value = "conf/isoproxy.toml")]
    conf: PathBuf,
    /// Check the configuration and compile every script, then exit (like `nginx -t`).
    #[arg(short, long)]
    test: bool,
    /// Take the listening sockets from a running isoproxy (binary upgrade):
    /// wait on `[server] upgrade_sock` until the old process, sent SIGQUIT,
    /// hands them over.
    #[arg(short, long)]
    upgrade: bool,
}

fn main() -> ExitCode {
    logging::init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("isoproxy: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Starts reading the platform's root certificates on a thread of their
/// own. Every connector built at start-up needs them (ours and the proxy
/// services'; they are read once per process, vendor/pingora-rustls), and
/// reading and parsing the system bundle and certificate directory takes
/// 2-4 ms: done here, it overlaps reading the configuration, V8's start and
/// the workers' loading instead of following them, and the first connector
/// waits only for what is left. The outcome, an error included, is the same
/// one every connector gets.
fn preload_root_certificates() {
    let spawned = std::thread::Builder::new().name("root-certs".into()).spawn(|| {
        let mut scratch = pingora::tls::RootCertStore::empty();
        // An error is kept for the connectors, which report it.
        let _ = pingora::tls::load_platform_certs_incl_env_into_store(&mut scratch);
    });
    if let Err(e) = spawned {
        // The connectors read them themselves.
        log::debug!("reading the root certificates ahead: {e}");
    }
}

/// How long start-up waits for the configured workers' isolates before
/// the listeners accept anyway.
const WARM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if !cli.test {
        preload_root_certificates();
    }
    let config = match config::load(&cli.conf) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    // Lines so far were text (a config error is printed as text too).
    logging::set_format(config.server.log_format);
    // Settings of wrangler files that isoproxy does not run: never dropped silently.
    for warning in config.warnings() {
        if cli.test {
            eprintln!("isoproxy: warning: {warning}");
        } else {
            log::warn!("{warning}");
        }
    }
    Runtime::init_v8();
    if cli.test {
        let deployment = match Deployment::build(&config, None) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", cli.conf.display());
                return Ok(ExitCode::from(1));
            }
        };
        println!(
            "isoproxy: the configuration file {} syntax is ok: {} workers compiled, {} routes",
            cli.conf.display(),
            deployment.workers.len(),
            config.routes.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // The workers load on their own threads (`Runtime::load_workers`) while
    // this one makes what does not depend on them: the connectors (ours,
    // and the HTTP/1 and TLS proxies'), whose TLS halves share the
    // platform's root certificates, read once (vendor/pingora-rustls).
    // Then Pingora starts while they still load: its proxy threads make each
    // light worker's isolates as soon as it has loaded (`startup.rs`).
    // Nothing is served, and no listening socket is taken over
    // (`--upgrade`: Pingora starts only once they loaded), until they loaded.
    let startup = startup::Startup::new(&config);
    let loading = std::thread::Builder::new()
        .name("load".into())
        .spawn({
            let config = config.clone();
            let startup = startup.clone();
            move || Deployment::build_then(&config, None, &|code| startup.loaded(code))
        })
        .context("starting the loading thread")?;

    let runtime = Runtime::start(RuntimeOptions {
        isolate_threads: config.runtime.isolate_threads,
        events: Some(Arc::new(|worker: &str, event: plugin_runtime::IsolateEvent| {
            metrics::metrics()
                .isolate_events
                .with_label_values(&[worker, event.as_str()])
                .inc();
        })),
    })
    .context("starting isolate threads")?;
    let state = Arc::new(AppState {
        // Replaced by the loaded deployment before anything can read it.
        deployment: ArcSwap::from_pointee(Deployment::empty(&config)),
        runtime,
        connector: Arc::new(Connector::new(None)),
        scheduled: Default::default(),
        client_limits: ArcSwap::from_pointee(downstream::ClientLimits::from_config(&config.server)),
        admin_token: ArcSwap::from_pointee(None),
        certificates: Default::default(),
        trusted_proxies: Default::default(),
        cluster: config
            .cluster
            .as_ref()
            .map(fleet::Cluster::new)
            .transpose()
            .context("[cluster]")?,
    });
    if let Some(cluster) = &state.cluster {
        log::info!(
            "cluster: instance {:?}; cron firings take leases in Redis",
            cluster.instance()
        );
    }
    state.apply_server_config(&config.server);
    state.runtime.set_queue_limit(config.runtime.queue_limit);
    state
        .runtime
        .set_idle_isolate_timeout(idle_isolate_timeout(&config.runtime));
    state
        .runtime
        .set_js_on_proxy_threads(config.runtime.js_on_proxy_threads);
    let conf = ServerConf {
        threads: config.server.threads,
        grace_period_seconds: Some(config.server.grace_period_seconds),
        graceful_shutdown_timeout_seconds: Some(config.server.graceful_shutdown_timeout_seconds),
        upgrade_sock: config.server.upgrade_sock.to_string_lossy().into_owned(),
        // With JS on the proxy threads, each is its own current-thread
        // runtime: a connection's task, its isolates and their pending
        // work never change thread.
        work_stealing: !config.runtime.js_on_proxy_threads,
        ..ServerConf::default()
    };
    let opt = Opt {
        conf: None,
        upgrade: cli.upgrade,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    // Pingora's HTTP/1 loop under our client limits (downstream.rs).
    let edge = pingora::proxy::http_proxy(&server.configuration, Edge { state: state.clone() });
    let tls_edge = (!config.server.tls_listen.is_empty())
        .then(|| pingora::proxy::http_proxy(&server.configuration, Edge { state: state.clone() }));

    let finish = Finish {
        loading,
        state: state.clone(),
        config: config.clone(),
        conf_path: cli.conf.clone(),
        startup: startup.clone(),
    };
    if cli.upgrade {
        // The old process's sockets are taken only once the workers loaded.
        if !finish.run() {
            return Ok(ExitCode::from(1));
        }
    } else {
        // A worker that fails to load ends the process from there, before
        // any service binds (every one waits for `startup`).
        std::thread::Builder::new()
            .name("load-finish".into())
            .spawn(move || {
                if !finish.run() {
                    std::process::exit(1);
                }
            })
            .context("starting the loading thread")?;
    }
    // A SIGHUP while the workers load is served once they did.
    let reloader = reload::Reloader::start(cli.conf.clone(), config.clone(), state.clone(), startup.clone())
        .context("starting the reload thread")?;
    if cli.upgrade {
        log::info!(
            "waiting for the running isoproxy's listening sockets on {} (send it SIGQUIT)",
            config.server.upgrade_sock.display()
        );
    }
    server.bootstrap();
    // With JS on the proxy threads, each proxy service's threads make their
    // light workers' isolates before it accepts (`proxy_threads.rs`).
    let warm_first = |service| {
        let threads = if config.runtime.js_on_proxy_threads {
            config.server.threads
        } else {
            0
        };
        proxy_threads::WarmFirst::new(service, state.clone(), threads, startup.clone())
    };

    let plain = downstream::Listener::proxy(edge, state.clone());
    // TLS listeners: the same proxy and limits (one connection count), the
    // handshake in `downstream.rs` under the header deadline.
    if let Some(edge) = tls_edge {
        let acceptor = tls::acceptor(state.certificates.clone()).context("setting up TLS")?;
        let mut tls_proxy = Service::new("proxy-tls".to_string(), plain.tls_twin(edge, acceptor));
        for addr in &config.server.tls_listen {
            tls_proxy.add_tcp(addr);
        }
        server.add_service(warm_first(tls_proxy));
    }
    let mut proxy = Service::new("proxy".to_string(), plain);
    for addr in &config.server.listen {
        proxy.add_tcp(addr);
    }
    server.add_service(warm_first(proxy));
    server.add_service(pingora::services::background::background_service(
        "cron",
        scheduler::Scheduler {
            state: state.clone(),
            startup: startup.clone(),
        },
    ));
    if let Some(addr) = &config.server.admin {
        let mut admin = Service::new(
            "admin".to_string(),
            downstream::Listener::admin(
                Admin {
                    state: state.clone(),
                    reloader: reloader.clone(),
                    addr: addr.clone(),
                },
                state.clone(),
            ),
        );
        admin.add_tcp(addr);
        server.add_service(startup::AfterStartup::new(admin, startup.clone()));
    }
    server.run(RunArgs {
        shutdown_signal: Box::new(signals::Signals { reloader, startup }),
    });
    Ok(ExitCode::SUCCESS)
}

/// What start-up does once the workers loaded: stores the deployment,
/// warms the isolate threads' workers, and opens [`startup::Startup`].
struct Finish {
    loading: std::thread::JoinHandle<Result<Deployment, deployment::DeploymentError>>,
    state: Arc<AppState>,
    config: config::Config,
    conf_path: PathBuf,
    startup: Arc<startup::Startup>,
}

impl Finish {
    /// `false` when a worker or the KV store failed (printed): the process
    /// exits with status 1.
    fn run(self) -> bool {
        let Finish {
            loading,
            state,
            config,
            conf_path,
            startup,
        } = self;
        let deployment = match loading.join() {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                eprintln!("{}: {e}", conf_path.display());
                return false;
            }
            Err(_) => {
                eprintln!("isoproxy: loading the workers crashed");
                return false;
            }
        };
        for (name, w) in &deployment.workers {
            log::info!("worker {name}: version {} from {}", w.version, w.spec.main.display());
        }
        if let Err(e) = deployment::open_kv_store(&config) {
            eprintln!("{}: [storage]: {e}", conf_path.display());
            return false;
        }
        state.deployment.store(Arc::new(deployment));
        // The isolate threads' workers get their first isolate now, so no
        // request waits for one (see `Runtime::warm`). Light workers' are
        // the proxy threads' own: made as each loaded (`Startup::loaded`),
        // and completed by each service before it binds (`proxy_threads.rs`).
        let warming = {
            let deployment = state.deployment.load();
            let workers: Vec<_> = deployment.workers.values().collect();
            state.runtime.warm_isolate_threads(&workers)
        };
        let asked = warming.len();
        let ready = warming.wait(WARM_TIMEOUT);
        if ready < asked {
            log::warn!(
                "{ready} of {asked} worker isolates ready after {WARM_TIMEOUT:?}; the rest are still being created"
            );
        }
        log::info!(
            "isoproxy serving {} on {}{} (admin {})",
            conf_path.display(),
            config.server.listen.join(", "),
            if config.server.tls_listen.is_empty() {
                String::new()
            } else {
                format!(", TLS on {}", config.server.tls_listen.join(", "))
            },
            config.server.admin.as_deref().unwrap_or("off")
        );
        startup.open();
        true
    }
}

/// `runtime.idle_isolate_timeout_s` as the runtime takes it (0: never).
fn idle_isolate_timeout(runtime: &config::RuntimeConfig) -> Option<std::time::Duration> {
    (runtime.idle_isolate_timeout_s > 0).then(|| std::time::Duration::from_secs(runtime.idle_isolate_timeout_s))
}
