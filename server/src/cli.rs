//! The `heirloom` command line. Every failure ends in one line on stderr naming what
//! is wrong and a non-zero exit code: 2 for configuration, 1 for anything else.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use axum::serve::ListenerExt;
use backend::config::{Config, ConfigFile};
use backend::search::Search;
use backend::{Backend, Db};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::http::{router, AppState};
use crate::{site, telemetry};

#[derive(Parser)]
#[command(
    name = "heirloom",
    version,
    about = "Heirloom: a self-hosted home for your family's stories, photos and recordings.",
    long_about = "Heirloom: a self-hosted home for your family's stories, photos and recordings.\n\n\
        Settings come from built-in defaults, then heirloom.toml (or the file given with --config), \
        then HEIRLOOM_* environment variables and DATABASE_URL. The listen address and site folder \
        come from LEPTOS_SITE_ADDR and LEPTOS_SITE_ROOT."
)]
pub struct Cli {
    /// Configuration file to read instead of ./heirloom.toml (which is optional).
    #[arg(long, global = true, env = "HEIRLOOM_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default): creates the data folder, applies pending
    /// migrations, then listens on LEPTOS_SITE_ADDR until SIGTERM or Ctrl-C.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the database file page by page (SQLite's full integrity check; slower than
    /// the quick check every start runs) and say whether it is sound. Exits non-zero when
    /// it is damaged.
    Check,
    /// Validate the configuration, print it with secrets redacted, and exit.
    CheckConfig,
    /// Print a single-use sign-up link (for `signup = "invite_only"`).
    Invite {
        /// Days until the link expires (1-90).
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Rebuild the search index from the database into a new generation, switch to it
    /// atomically, and print what it holds. Run it while the server is stopped: a
    /// running server holds the index, and is told to rebuild its own with
    /// `POST /api/v1/search/reindex` (administrators) instead.
    Reindex,
    /// Write a backup archive (gzip'd tar) while the server keeps running: the database
    /// as JSON lines from one consistent snapshot, every media file, and the settings
    /// without secrets. Restores into SQLite or PostgreSQL alike.
    Backup {
        /// The archive to write (e.g. heirloom-2026-11-22.tar.gz).
        file: PathBuf,
        /// Also store the vault key (needed to read stored webhook secrets and connector
        /// tokens after a restore). Keep such an archive as safe as the key itself.
        #[arg(long)]
        include_vault_key: bool,
    },
    /// Restore a backup archive into an empty database and data folder (server stopped),
    /// then rebuild the search index.
    Restore {
        /// The archive `heirloom backup` wrote.
        file: PathBuf,
    },
    /// Re-seal every stored credential (webhook signing secrets, outbound calls'
    /// credential headers, connector tokens) with the current `vault_key`, and report
    /// how many of each. Rotate by setting the new `vault_key`, listing the old key in
    /// `vault_previous_keys`, running this (the server may keep running), then removing
    /// the old key.
    RotateVaultKey,
}

/// Stack size of the runtime's worker threads (see `run`).
pub const RENDER_STACK_BYTES: usize = 8 * 1024 * 1024;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let file = cli.config.map_or(ConfigFile::Default, ConfigFile::Named);
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(err) => return fail(&err),
    };
    // Rendering a page recurses through its nested view types; the story editor's page
    // needs more than tokio's 2 MiB worker stacks in a debug build.
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(RENDER_STACK_BYTES).build() {
            Ok(runtime) => runtime,
            Err(err) => {
                eprintln!("heirloom: error: cannot start the async runtime: {err}");
                return ExitCode::FAILURE;
            }
        };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Check => check(config).await,
            Command::CheckConfig => check_config(config),
            Command::Invite { days } => invite(config, days).await,
            Command::Reindex => reindex(config).await,
            Command::Backup { file, include_vault_key } => backup(config, &file, include_vault_key).await,
            Command::Restore { file } => restore(config, &file).await,
            Command::RotateVaultKey => rotate_vault_key(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &backend::Error) -> ExitCode {
    eprintln!("heirloom: error: {err}");
    match err {
        backend::Error::Config { .. } => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}

fn check_config(config: Config) -> backend::Result<()> {
    let site = site::leptos_options()?;
    println!("configuration is valid");
    println!("{config:#?}");
    println!("site_addr: {}\nsite_root: {}", site.site_addr, site.site_root);
    Ok(())
}

async fn migrate(config: Config) -> backend::Result<()> {
    backend::config::prepare_data_dir(&config.data_dir)?;
    let db = Db::connect(&config.database_url(), 1).await?;
    db.check_integrity(false).await?;
    let pending = db.pending_migrations().await.unwrap_or_default().len();
    db.migrate().await?;
    db.close().await;
    println!("migrations applied ({pending} were pending)");
    Ok(())
}

async fn check(config: Config) -> backend::Result<()> {
    let db = Db::connect(&config.database_url(), 1).await?;
    let result = db.check_integrity(true).await;
    db.close().await;
    result?;
    println!("the database is sound");
    Ok(())
}

async fn invite(config: Config, days: u32) -> backend::Result<()> {
    // Only the database: a running server holds the search index, and that is fine.
    let db = backend::open_database(&config, 1).await?;
    let identity = backend::identity::Identity::new(db.clone(), Arc::new(config));
    let invite = identity.create_invite(None, days).await;
    db.close().await;
    println!("{}", invite?.url);
    Ok(())
}

async fn backup(config: Config, file: &std::path::Path, include_vault_key: bool) -> backend::Result<()> {
    let db = backend::open_database(&config, 2).await?;
    let storage = backend::media::storage_from_config(&config)?;
    let started = Instant::now();
    let result = backend::backup::create(&config, &db, storage, file, include_vault_key).await;
    db.close().await;
    let manifest = result?;
    let rows: u64 = manifest.tables.values().sum();
    println!(
        "backup written to {}: {rows} rows in {} tables, {} media files{}{} in {:.1} s",
        file.display(),
        manifest.tables.len(),
        manifest.media_files,
        if manifest.media_missing > 0 {
            format!(" ({} deleted while copying)", manifest.media_missing)
        } else {
            String::new()
        },
        if manifest.vault_key_included { ", and the vault key" } else { "" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn restore(config: Config, file: &std::path::Path) -> backend::Result<()> {
    let db = backend::open_database(&config, 2).await?;
    let storage = backend::media::storage_from_config(&config)?;
    let started = Instant::now();
    let restored = backend::backup::restore(&config, &db, storage, file).await;
    let restored = match restored {
        Ok(restored) => restored,
        Err(err) => {
            db.close().await;
            return Err(err);
        }
    };
    let index = Search::rebuild_offline(&backend::disk::Disk::from_config(&config), db.clone()).await;
    db.close().await;
    let index = index?;
    println!(
        "restored {} rows and {} media files from a backup of {} taken at {} (unix ms); search index rebuilt \
         ({} stories, {} legacies){} in {:.1} s",
        restored.rows,
        restored.media_files,
        restored.manifest.engine,
        restored.manifest.created_at,
        index.stories,
        index.legacies,
        if restored.vault_key_written { "; vault key file restored" } else { "" },
        started.elapsed().as_secs_f64()
    );
    if !restored.manifest.vault_key_included {
        println!("note: the archive has no vault key; set vault_key (or put vault.key in the data folder) to the key of the old server, or stored webhook secrets and connector tokens cannot be read");
    }
    Ok(())
}

async fn reindex(config: Config) -> backend::Result<()> {
    let db = backend::open_database(&config, 2).await?;
    let started = Instant::now();
    let result = Search::rebuild_offline(&backend::disk::Disk::from_config(&config), db.clone()).await;
    db.close().await;
    let report = result.map_err(|err| match err {
        backend::Error::Conflict(_) => backend::Error::Conflict(
            format!(
                "the search index in {} is in use by a running Heirloom server. Stop the server and run \
                 `heirloom reindex` again, or have the running server rebuild its own index: \
                 POST /api/v1/search/reindex as an administrator.",
                config.data_dir.join("search").display()
            )
            .into(),
        ),
        other => other,
    })?;
    println!(
        "search index rebuilt: {} stories, {} legacies in {:.1} s (generation {})",
        report.stories,
        report.legacies,
        started.elapsed().as_secs_f64(),
        report.generation
    );
    Ok(())
}

async fn rotate_vault_key(config: Config) -> backend::Result<()> {
    let vault = backend::vault::Vault::from_config(&config)?;
    let db = backend::open_database(&config, 2).await?;
    let result = backend::vault::reseal_all(&db, &vault).await;
    db.close().await;
    let report = result?;
    println!("current vault key: {}", vault.current_key_id());
    for (what, resealed, current, unreadable) in &report.kinds {
        println!("{what}: {resealed} re-sealed, {current} already current, {unreadable} unreadable");
    }
    let unreadable = report.unreadable();
    if unreadable > 0 {
        return Err(backend::Error::Conflict(
            format!(
                "{unreadable} sealed value(s) open with neither vault_key nor vault_previous_keys; add the key \
                 that sealed them to vault_previous_keys and run rotate-vault-key again"
            )
            .into(),
        ));
    }
    println!("every sealed value opens with the current key; vault_previous_keys can now be removed");
    Ok(())
}

async fn serve(config: Config) -> backend::Result<()> {
    let _telemetry = telemetry::init_logging(&config);
    let leptos_options = site::leptos_options()?;
    tracing::info!(config = ?config, "starting heirloom {}", env!("CARGO_PKG_VERSION"));
    let backend = Backend::start(config).await?;
    let addr = leptos_options.site_addr;
    let listener = TcpListener::bind(addr).await.map_err(|err| backend::Error::Config {
        key: "LEPTOS_SITE_ADDR".into(),
        message: format!("cannot listen on {addr}: {err}"),
    })?;
    let local = listener.local_addr().map_err(|e| backend::Error::internal("reading the address listened on", e))?;
    // Each small write goes out at once: with Nagle's algorithm a live stream's message
    // waits for the reader's (delayed, up to 40 ms) acknowledgement of the one before.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY on a connection");
        }
    });
    crate::http::assets::refresh_twins_in_background(leptos_options.site_root.as_ref().into());
    let state = AppState::new(backend.clone(), leptos_options, telemetry::metrics_handle());
    // Event delivery and timers start after the HTTP port is bound, and fire anything
    // left overdue by the previous run straight away.
    let workers = backend.start_workers().await?;
    tracing::info!(addr = %local, "listening on http://{local}");
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| backend::Error::internal("serving HTTP", err))?;
    workers.shutdown().await;
    backend.shutdown().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Resolves on SIGTERM (orchestrators) or Ctrl-C (people); in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
