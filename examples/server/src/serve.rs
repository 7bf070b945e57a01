//! `dtpixel serve`: options, start-up, routes and graceful shutdown (SIGINT/SIGTERM: stop
//! accepting, finish the requests in flight, write every queued hit, checkpoint the WAL).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use clap::Args;
use dtpixel::{EventType, HitParser};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_service::Service;

use crate::filter::Filter;
use crate::wal_sync::Deliver;
use crate::writer::{self, Limits, Writer};
use crate::{demo, hit_handler, report_api, report_html, DbArgs, Failure};

/// The options of `dtpixel serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    /// A path prefix for pixel URLs, such as /t for https://shop.example/t/pixel/….
    #[arg(long, default_value = "")]
    prefix: String,
    /// The event types recorded, comma-separated; any other is refused with a 400.
    #[arg(long, value_delimiter = ',', default_value = "page_load,add_to_cart")]
    events: Vec<String>,
    /// Take the client IP from X-Forwarded-For (its last entry); only behind a proxy you run.
    #[arg(long)]
    trust_proxy: bool,
    /// Also serve the demo shop under /demo/.
    #[arg(long)]
    demo: bool,
    /// The browser package served at /demo/pkg/ (default: <workspace>/pkg).
    #[arg(long)]
    pkg_dir: Option<PathBuf>,
    /// Hits that may wait to be written; more get a 503.
    #[arg(long, default_value_t = 16_384)]
    queue_capacity: usize,
    /// Hits written in one transaction at most.
    #[arg(long, default_value_t = 4_096)]
    batch_max: usize,
    /// Seconds a client may take to send a request's headers before the connection is closed
    /// (slow clients cannot hold connections open).
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Remove a pattern from the bot list (repeatable; a pattern as the `isbot` crate lists it),
    /// for example `headlesschrome` to count a headless browser under test.
    #[arg(long = "count-bot", value_name = "PATTERN")]
    count_bot: Vec<String>,
    /// Count every user agent: no bot filtering.
    #[arg(long)]
    no_bot_filter: bool,
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The writer's queue.
    pub writer: Writer,
    /// The pixel path prefix (validated).
    pub prefix: Arc<str>,
    /// The hit parser for that prefix (made once: the prefix lives as long as the process).
    pub parser: HitParser<'static>,
    /// Where pixel paths start: `{prefix}/pixel/`.
    pub pixel_root: Arc<str>,
    /// The configured event types.
    pub events: Arc<Vec<EventType>>,
    /// Prefetch and bot filtering.
    pub filter: Arc<Filter>,
    /// Whether X-Forwarded-For is trusted.
    pub trust_proxy: bool,
    /// The database file.
    pub db: Arc<PathBuf>,
    /// The demo shop, with `--demo`.
    pub demo: Option<Arc<demo::Demo>>,
}

/// Parses `--events`: valid, distinct names, at least one.
pub fn parse_events(names: &[String]) -> Result<Vec<EventType>, Failure> {
    let mut events = Vec::new();
    for name in names.iter().map(|n| n.trim()) {
        let event = EventType::parse(name).map_err(|e| Failure::usage(format!("--events: {e}")))?;
        if events.contains(&event) {
            return Err(Failure::usage(format!(
                "--events: '{name}' is listed twice"
            )));
        }
        events.push(event);
    }
    if events.is_empty() {
        return Err(Failure::usage(
            "--events: at least one event type is needed",
        ));
    }
    Ok(events)
}

/// Runs the collector until SIGINT or SIGTERM.
pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let events = parse_events(&args.events)?;
    // One small string, kept for the life of the process so the parser can borrow it.
    let prefix: &'static str = Box::leak(args.prefix.clone().into_boxed_str());
    let parser = HitParser::new()
        .with_prefix(prefix)
        .map_err(|e| Failure::usage(format!("--prefix: {e}")))?;
    if args.queue_capacity == 0 || args.batch_max == 0 {
        return Err(Failure::usage(
            "--queue-capacity and --batch-max must be at least 1",
        ));
    }
    let demo = if args.demo {
        let pkg_dir = args.pkg_dir.clone().unwrap_or_else(demo::default_pkg_dir);
        Some(Arc::new(demo::Demo::new(pkg_dir)))
    } else {
        None
    };
    if let Some(demo) = &demo {
        demo.register_creators(&args.db.db)
            .map_err(Failure::runtime)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the runtime: {e}")))?;
    let (writer, writer_thread) = writer::start(
        &args.db.db,
        Limits {
            queue_capacity: args.queue_capacity,
            batch_max: args.batch_max,
        },
        &Deliver::on(runtime.handle()),
    )
    .map_err(Failure::runtime)?;
    let state = AppState {
        writer,
        prefix: args.prefix.clone().into(),
        parser,
        pixel_root: format!("{}/pixel/", args.prefix).into(),
        events: Arc::new(events),
        filter: Arc::new(Filter::new(!args.no_bot_filter, &args.count_bot)),
        trust_proxy: args.trust_proxy,
        db: Arc::new(args.db.db.clone()),
        demo,
    };
    let header_timeout = Duration::from_secs(args.header_timeout.max(1));
    let served = runtime.block_on(serve(args.listen, state, header_timeout));
    // Every request in flight has been answered; write what is still queued.
    writer_thread.shutdown();
    served?;
    eprintln!("dtpixel: stopped; every acknowledged hit is on disk");
    Ok(())
}

async fn serve(
    listen: SocketAddr,
    state: AppState,
    header_timeout: Duration,
) -> Result<(), Failure> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| Failure::runtime(format!("cannot listen on {listen}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::runtime(format!("cannot listen on {listen}: {e}")))?;
    let shutdown =
        shutdown_signal().map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    let demo = state.demo.is_some();
    let state = Arc::new(state);
    let app = router((*state).clone());
    println!("dtpixel: listening on http://{local}");
    if demo {
        println!("dtpixel: demo shop at http://{local}/demo/creators.html, report at http://{local}/report");
    }
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    eprintln!("dtpixel: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let state = state.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            // Pixel hits go straight to their handler; everything else through the router
            // (whose fallback is the same handler, for the 404s).
            let route = if request.uri().path().starts_with(&*state.pixel_root) {
                Route::Pixel(state.clone())
            } else {
                Route::Router(app.clone())
            };
            async move {
                match route {
                    Route::Pixel(state) => {
                        let (parts, _body) = request.into_parts();
                        Ok(hit_handler::handle(
                            &state,
                            peer,
                            &parts.method,
                            &parts.uri,
                            &parts.headers,
                        )
                        .await)
                    }
                    Route::Router(mut app) => {
                        request.extensions_mut().insert(ConnectInfo(peer));
                        app.call(request.map(Body::new)).await
                    }
                }
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    // Finish the requests in flight (each waits at most for its commit).
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            eprintln!("dtpixel: some connections did not finish within {SHUTDOWN_GRACE:?}");
        }
    }
    Ok(())
}

/// Where a request goes.
enum Route {
    /// A pixel path: the hit handler.
    Pixel(Arc<AppState>),
    /// Anything else: the router.
    Router(Router),
}

/// How long shutdown waits for open connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Every route.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/api/report", get(report_api::api_report))
        .route("/api/filtered", get(report_api::api_filtered))
        .route("/report", get(report_html::page));
    if state.demo.is_some() {
        app = app.merge(demo::routes());
    }
    app.fallback(crate::hit_handler::pixel).with_state(state)
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed by this call, before the
/// "listening" line is printed, so a signal sent right after it is not lost (or fatal).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("dtpixel: shutting down: finishing requests and writing queued hits");
    })
}
