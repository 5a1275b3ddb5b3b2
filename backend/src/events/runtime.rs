//! Starts and stops the background workers: the event bus (embedded dispatcher, or the
//! JetStream publisher plus one durable consumer per [`Consumer`]) and the timer worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db::Db;
use crate::error::Result;
use crate::events::consumer::{Consumer, RetryPolicy};
use crate::events::dispatch::Lane;
use crate::events::jetstream::JetStream;
use crate::events::{Dispatcher, TimerHandler, TimerWorker};

/// The running workers; dropping this does not stop them, [`Workers::shutdown`] does.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

impl Workers {
    /// Starts the bus chosen by `config` and the timer worker.
    pub async fn start(
        db: Db,
        config: &Config,
        consumers: Vec<Arc<dyn Consumer>>,
        timer_handlers: Vec<Arc<dyn TimerHandler>>,
        retry: RetryPolicy,
    ) -> Result<Workers> {
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        // Writes made by another process are only seen by polling; local ones wake at once.
        let poll = Duration::from_millis(500);
        match &config.nats_url {
            None => {
                let dispatcher = Arc::new(Dispatcher::new(db.clone(), consumers.clone(), retry));
                tasks.push(tokio::spawn(dispatcher.run(poll, stopped(stop_rx.clone()))));
                for consumer in consumers.iter().filter(|c| c.own_lane().is_some()) {
                    let lane = Arc::new(Lane::new(db.clone(), consumer.clone(), retry));
                    tasks.push(tokio::spawn(lane.run(poll, stopped(stop_rx.clone()))));
                }
            }
            Some(url) => {
                let mut bus = JetStream::connect(url, &config.nats_stream).await?;
                // The replica's id (`Backend::start` puts the one in use here).
                if let Some(replica) = &config.replica_id {
                    bus = bus.with_replica(replica);
                }
                tracing::info!(stream = %config.nats_stream, "events flow through NATS JetStream");
                tasks.push(tokio::spawn(bus.clone().run_publisher(db.clone(), poll, stopped(stop_rx.clone()))));
                for consumer in &consumers {
                    let run = bus.clone().run_consumer(db.clone(), consumer.clone(), retry, stopped(stop_rx.clone()));
                    tasks.push(tokio::spawn(run));
                }
            }
        }
        let timers = Arc::new(TimerWorker::new(db.clone(), timer_handlers));
        tasks.push(tokio::spawn(timers.run(Duration::from_secs(5), stopped(stop_rx))));
        Ok(Workers { stop, tasks })
    }

    /// Runs `tick` every `period` (the first time at once) until shutdown; a failed
    /// tick is logged and the next one comes as usual.
    pub fn every<Tick, Ticked>(&mut self, what: &'static str, period: Duration, mut tick: Tick)
    where
        Tick: FnMut() -> Ticked + Send + 'static,
        Ticked: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        let stop = stopped(self.stop.subscribe());
        self.tasks.push(tokio::spawn(async move {
            tokio::pin!(stop);
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stop => return,
                    _ = ticks.tick() => {
                        if let Err(err) = tick().await {
                            tracing::warn!(worker = what, error = %err, "periodic work failed; trying again later");
                        }
                    }
                }
            }
        }));
    }

    /// Asks every worker to stop after what it is doing and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
