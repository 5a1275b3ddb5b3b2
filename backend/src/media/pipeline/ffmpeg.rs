//! ffmpeg and ffprobe (Debian's packages) for recordings and videos: what a file holds
//! (`ffprobe`), a poster frame, a web-friendly H.264/AAC MP4, and loudness-normalised
//! AAC for recordings. Every run has stdin closed, a time limit, and is killed when it
//! is dropped; the input's demuxer is chosen from the sniffed type and only local files
//! may be opened, so a crafted file cannot make ffmpeg read anything else.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

/// Time limit of `ffprobe` and of a poster frame.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time limit of a transcode: at least this, or twice the playing time for long files
/// (see [`transcode_timeout`]).
pub const TRANSCODE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// No transcode runs longer than this, however long the file.
pub const TRANSCODE_TIMEOUT_MAX: Duration = Duration::from_secs(6 * 3600);

/// How long a transcode of a file playing `duration_secs` may take: ten minutes, or
/// twice its playing time (an hour-long family video must not fail for being long), at
/// most six hours.
pub fn transcode_timeout(duration_secs: Option<f64>) -> Duration {
    let scaled = duration_secs
        .filter(|d| d.is_finite() && *d > 0.0)
        .map_or(Duration::ZERO, |d| Duration::from_secs_f64((d * 2.0).min(TRANSCODE_TIMEOUT_MAX.as_secs_f64())));
    scaled.max(TRANSCODE_TIMEOUT)
}
/// Widest web transcode.
pub const WEB_MAX_WIDTH: u32 = 1280;

/// Why an ffmpeg step gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FfError {
    /// The program is not installed (or not where the configuration says).
    Missing,
    /// It ran and failed: the file is not what it claims, or is damaged.
    Failed(String),
    TimedOut(Duration),
}

/// What `ffprobe` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    pub duration_secs: Option<f64>,
    /// Width and height as displayed (rotation applied), of the first video stream that
    /// is not an attached cover picture.
    pub video: Option<(u32, u32)>,
    pub has_audio: bool,
}

#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
}

impl Ffmpeg {
    /// `program` as configured: a name found on PATH or a path; ffprobe is beside it.
    pub fn new(program: &str) -> Ffmpeg {
        let ffmpeg = PathBuf::from(program);
        let ffprobe = match ffmpeg.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => dir.join("ffprobe"),
            None => PathBuf::from("ffprobe"),
        };
        Ffmpeg { ffmpeg, ffprobe }
    }

    /// Whether both programs can be started.
    pub async fn available(&self) -> bool {
        for program in [&self.ffmpeg, &self.ffprobe] {
            if run(program, &["-version".into()], PROBE_TIMEOUT).await.is_err() {
                return false;
            }
        }
        true
    }

    pub async fn probe(&self, input: &Path, content_type: &str) -> Result<Probe, FfError> {
        let mut args = strings(&["-v", "error", "-protocol_whitelist", "file"]);
        if let Some(demuxer) = demuxer(content_type) {
            args.extend(strings(&["-f", demuxer]));
        }
        args.extend(strings(&["-print_format", "json", "-show_format", "-show_streams"]));
        args.push(input.display().to_string());
        let output = run(&self.ffprobe, &args, PROBE_TIMEOUT).await?;
        let json: Value = serde_json::from_slice(&output)
            .map_err(|e| FfError::Failed(format!("ffprobe printed something unexpected: {e}")))?;
        Ok(parse_probe(&json))
    }

    /// Runs ffmpeg with `args` and `out` as the output file.
    async fn write(&self, mut args: Vec<String>, out: &Path, timeout: Duration) -> Result<(), FfError> {
        args.push(out.display().to_string());
        run(&self.ffmpeg, &args, timeout).await.map(|_| ())
    }

    /// Writes one frame at `at_secs` as a PNG.
    pub async fn poster(&self, input: &Path, content_type: &str, at_secs: f64, out: &Path) -> Result<(), FfError> {
        let mut args = strings(&["-ss", &format!("{at_secs:.3}")]);
        args.extend(input_args(input, content_type));
        args.extend(strings(&["-map", "0:v:0", "-frames:v", "1", "-f", "image2", "-c:v", "png", "-y"]));
        self.write(args, out, PROBE_TIMEOUT).await
    }

    /// H.264/AAC in an MP4 that starts playing before it is fully loaded, at most
    /// [`WEB_MAX_WIDTH`] wide, sound loudness-normalised.
    pub async fn web_video(
        &self,
        input: &Path,
        content_type: &str,
        has_audio: bool,
        out: &Path,
        timeout: Duration,
    ) -> Result<(), FfError> {
        let mut args = input_args(input, content_type);
        args.extend(strings(&[
            "-map",
            "0:v:0",
            "-vf",
            &format!("scale='min({WEB_MAX_WIDTH},trunc(iw/2)*2)':-2,format=yuv420p"),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
        ]));
        if has_audio {
            args.extend(loudnorm_aac("128k"));
        }
        args.extend(strings(&["-movflags", "+faststart", "-f", "mp4", "-y"]));
        self.write(args, out, timeout).await
    }

    /// Loudness-normalised (EBU R128 `loudnorm`) AAC in an M4A.
    pub async fn web_audio(
        &self,
        input: &Path,
        content_type: &str,
        out: &Path,
        timeout: Duration,
    ) -> Result<(), FfError> {
        let mut args = input_args(input, content_type);
        args.push("-vn".into());
        args.extend(loudnorm_aac("160k"));
        args.extend(strings(&["-movflags", "+faststart", "-f", "ipod", "-y"]));
        self.write(args, out, timeout).await
    }
}

/// The first sound track, loudness-normalised (EBU R128 `loudnorm`) to 48 kHz AAC at `bitrate`.
fn loudnorm_aac(bitrate: &str) -> Vec<String> {
    strings(&["-map", "0:a:0", "-af", "loudnorm", "-ar", "48000", "-c:a", "aac", "-b:a", bitrate])
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn input_args(input: &Path, content_type: &str) -> Vec<String> {
    let mut args = strings(&["-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file"]);
    if let Some(demuxer) = demuxer(content_type) {
        args.extend(strings(&["-f", demuxer]));
    }
    args.push("-i".into());
    args.push(input.display().to_string());
    args
}

/// The demuxer for a sniffed type, so ffmpeg never guesses (a playlist, a concat list).
fn demuxer(content_type: &str) -> Option<&'static str> {
    Some(match content_type {
        "video/mp4" | "video/quicktime" | "video/3gpp" | "audio/mp4" => "mov",
        "video/webm" | "audio/webm" | "video/x-matroska" => "matroska",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/wav" => "wav",
        "audio/flac" => "flac",
        "audio/aac" => "aac",
        "audio/aiff" => "aiff",
        "audio/amr" => "amr",
        "video/x-msvideo" => "avi",
        "video/mpeg" => "mpeg",
        "video/x-flv" => "flv",
        "video/x-ms-wmv" => "asf",
        _ => return None,
    })
}

/// Runs `program` to completion within `timeout`; its stdout on success.
async fn run(program: &Path, args: &[String], timeout: Duration) -> Result<Vec<u8>, FfError> {
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(FfError::Missing)
        }
        Err(e) => return Err(FfError::Failed(format!("cannot start {}: {e}", program.display()))),
    };
    // On timeout the future (and with it the child) is dropped, which kills it.
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| FfError::TimedOut(timeout))?
        .map_err(|e| FfError::Failed(format!("{} stopped unexpectedly: {e}", program.display())))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let tail = last.iter().rev().take(2).rev().copied().collect::<Vec<_>>().join("; ");
        let tail: String = tail.chars().take(300).collect();
        Err(FfError::Failed(if tail.is_empty() { format!("it exited with {}", output.status) } else { tail }))
    }
}

fn parse_probe(json: &Value) -> Probe {
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<f64>().ok()).or_else(|| v.as_f64());
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    let video = streams.iter().find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1);
    let stream_duration = video.and_then(|s| number(&s["duration"]));
    let duration = number(&json["format"]["duration"]).or(stream_duration).filter(|d| d.is_finite() && *d >= 0.0);
    let video = video.and_then(|s| {
        let (w, h) = (s["width"].as_u64()? as u32, s["height"].as_u64()? as u32);
        if w == 0 || h == 0 {
            return None;
        }
        let rotation = s["side_data_list"]
            .as_array()
            .and_then(|list| list.iter().find_map(|d| d["rotation"].as_f64()))
            .or_else(|| number(&s["tags"]["rotate"]))
            .unwrap_or(0.0);
        let quarter = (rotation.round() as i64).rem_euclid(180) == 90;
        Some(if quarter { (h, w) } else { (w, h) })
    });
    Probe { duration_secs: duration, video, has_audio: streams.iter().any(|s| s["codec_type"] == "audio") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_read_duration_size_rotation_and_sound() {
        let json = serde_json::json!({
            "streams": [
                {"codec_type": "video", "width": 1920, "height": 1080, "disposition": {"attached_pic": 0},
                 "side_data_list": [{"rotation": -90}]},
                {"codec_type": "audio"}
            ],
            "format": {"duration": "12.500000"}
        });
        assert_eq!(parse_probe(&json), Probe { duration_secs: Some(12.5), video: Some((1080, 1920)), has_audio: true });
        let cover_art = serde_json::json!({
            "streams": [{"codec_type": "audio"}, {"codec_type": "video", "width": 600, "height": 600,
                "disposition": {"attached_pic": 1}}],
            "format": {"duration": "180.0"}
        });
        assert_eq!(parse_probe(&cover_art).video, None);
        assert_eq!(parse_probe(&serde_json::json!({})), Probe::default());
    }

    #[test]
    fn long_files_get_longer_to_transcode() {
        assert_eq!(transcode_timeout(None), TRANSCODE_TIMEOUT);
        assert_eq!(transcode_timeout(Some(2.0)), TRANSCODE_TIMEOUT);
        assert_eq!(transcode_timeout(Some(3600.0)), Duration::from_secs(7200));
        assert_eq!(transcode_timeout(Some(1e9)), TRANSCODE_TIMEOUT_MAX);
        assert_eq!(transcode_timeout(Some(f64::NAN)), TRANSCODE_TIMEOUT);
    }

    #[test]
    fn ffprobe_is_found_beside_ffmpeg() {
        assert_eq!(Ffmpeg::new("ffmpeg").ffprobe, PathBuf::from("ffprobe"));
        assert_eq!(Ffmpeg::new("/opt/ff/bin/ffmpeg").ffprobe, PathBuf::from("/opt/ff/bin/ffprobe"));
    }

    #[tokio::test]
    async fn a_missing_program_is_reported_as_missing() {
        let ff = Ffmpeg::new("/nonexistent/ffmpeg");
        assert!(!ff.available().await);
        assert_eq!(ff.probe(Path::new("/dev/null"), "video/mp4").await, Err(FfError::Missing));
    }
}
