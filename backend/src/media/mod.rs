//! Media: photos, recordings and videos. `storage` keeps the bytes (data folder or S3),
//! `service` the rules (uploads, quotas, permissions, signed URLs), `pipeline` turns
//! an uploaded file into something safe to show (sniffing, scanning, metadata,
//! thumbnails, transcodes).

pub mod model;
pub mod pipeline;
pub mod repo;
pub mod service;
pub mod signing;
pub mod storage;

use std::sync::Arc;

pub use pipeline::MediaPipeline;
pub use service::{files_consumer, Media, MediaLimits, Served, Signature, UploadExpiryTimer};
pub use storage::{ByteRange, FolderStorage, S3Settings, S3Storage, Storage};

use crate::config::Config;
use crate::error::Result;

/// The storage the configuration names: the bucket when `s3_bucket` is set, else
/// `data_dir/media`.
pub fn storage_from_config(config: &Config) -> Result<Arc<dyn Storage>> {
    use secrecy::ExposeSecret;
    Ok(match &config.s3_bucket {
        Some(bucket) => Arc::new(S3Storage::new(S3Settings {
            endpoint: config.s3_endpoint.as_ref().map(|u| u.to_string()),
            region: config.s3_region.clone(),
            bucket: bucket.clone(),
            force_path_style: config.s3_force_path_style,
            access_key_id: config.s3_access_key_id.clone(),
            secret_access_key: config.s3_secret_access_key.as_ref().map(|s| s.expose_secret().to_string()),
        })),
        None => Arc::new(FolderStorage::new(config.data_dir.join("media"), crate::disk::Disk::from_config(config))?),
    })
}
