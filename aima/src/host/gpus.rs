//! The host's GPUs as `nvidia-smi` reports them: each device's free memory, and the processes
//! computing on it. Where `nvidia-smi` is absent the report says so and nothing is checked.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the host can tell about its GPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuReport {
    /// No GPU tooling here: why, in words (e.g. "nvidia-smi is not installed").
    NoTooling(String),
    /// `nvidia-smi` ran but failed (no driver loaded, a GPU fallen off the bus).
    Failed(String),
    Read {
        devices: Vec<GpuDevice>,
        apps: Vec<GpuApp>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuDevice {
    /// `0`, `1`, … as `--gpus` and `CUDA_VISIBLE_DEVICES` name them.
    pub index: String,
    pub uuid: String,
    pub name: String,
    pub memory_free: u64,
    pub memory_total: u64,
}

/// A process computing on a GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuApp {
    pub gpu_uuid: String,
    pub pid: u32,
    pub process: String,
    pub used_memory: u64,
}

impl GpuDevice {
    /// Whether `id` (an index or a UUID, as `--gpus` takes them) names this device.
    pub fn is(&self, id: &str) -> bool {
        self.index == id || self.uuid.eq_ignore_ascii_case(id)
    }
}

const SMI: &str = "nvidia-smi";
const SMI_SECS: u64 = 10;
const MIB: u64 = 1 << 20;

/// Asks `nvidia-smi` for devices and compute processes.
pub(super) fn probe() -> GpuReport {
    let devices = match smi(&[
        "--query-gpu=index,uuid,name,memory.free,memory.total",
        "--format=csv,noheader,nounits",
    ]) {
        Ok(text) => parse_devices(&text),
        Err(report) => return report,
    };
    let apps = match smi(&[
        "--query-compute-apps=gpu_uuid,pid,process_name,used_memory",
        "--format=csv,noheader,nounits",
    ]) {
        Ok(text) => parse_apps(&text),
        Err(report) => return report,
    };
    GpuReport::Read { devices, apps }
}

/// Runs `nvidia-smi ARGS`, bounded in time; a missing program is "no tooling".
fn smi(args: &[&str]) -> Result<String, GpuReport> {
    let mut child = match Command::new(SMI)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(GpuReport::NoTooling(format!(
                "{SMI} is not installed on this host"
            )));
        }
        Err(e) => return Err(GpuReport::Failed(format!("cannot run {SMI}: {e}"))),
    };
    let began = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if began.elapsed() < Duration::from_secs(SMI_SECS) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(GpuReport::Failed(format!(
                    "{SMI} did not answer within {SMI_SECS}s"
                )));
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| GpuReport::Failed(format!("cannot read {SMI}'s output: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout).trim().to_owned()
            + String::from_utf8_lossy(&out.stderr).trim();
        return Err(GpuReport::Failed(format!(
            "{SMI} failed ({}): {said}",
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(str::trim).collect()
}

/// Memory in MiB as `nounits` prints it; `[N/A]` and the like read as none.
fn mib(text: &str) -> u64 {
    text.parse::<u64>().map_or(0, |m| m * MIB)
}

fn parse_devices(text: &str) -> Vec<GpuDevice> {
    text.lines()
        .map(fields)
        .filter(|f| f.len() == 5)
        .map(|f| GpuDevice {
            index: f[0].to_owned(),
            uuid: f[1].to_owned(),
            name: f[2].to_owned(),
            memory_free: mib(f[3]),
            memory_total: mib(f[4]),
        })
        .collect()
}

fn parse_apps(text: &str) -> Vec<GpuApp> {
    text.lines()
        .map(fields)
        .filter(|f| f.len() == 4)
        .filter_map(|f| {
            Some(GpuApp {
                gpu_uuid: f[0].to_owned(),
                pid: f[1].parse().ok()?,
                process: f[2].to_owned(),
                used_memory: mib(f[3]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_csv_is_read() {
        let devices = parse_devices(
            "0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 1024, 81920\n1, GPU-bbbb, NVIDIA A100-SXM4-80GB, [N/A], 81920\n",
        );
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[0].memory_free, 1024 * MIB);
        assert_eq!(devices[1].memory_free, 0);
        assert!(devices[0].is("0") && devices[0].is("gpu-AAAA") && !devices[0].is("1"));
        let apps = parse_apps("GPU-aaaa, 4242, /usr/bin/python3, 79000\n\nnot, a, line\n");
        assert_eq!(
            apps,
            [GpuApp {
                gpu_uuid: "GPU-aaaa".into(),
                pid: 4242,
                process: "/usr/bin/python3".into(),
                used_memory: 79000 * MIB,
            }]
        );
    }
}
