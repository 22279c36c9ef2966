//! How Docker can hand GPUs to a container, as `docker info` reports it, and the device
//! request sent for a service's GPU choice.

use bollard::models::DeviceRequest;
use serde::Serialize;

use crate::domain::Gpus;

/// The GPU paths a Docker daemon reports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GpuSupport {
    /// Registered runtimes named after NVIDIA (`nvidia`): the NVIDIA container toolkit, which
    /// serves `docker run --gpus`.
    pub nvidia_runtimes: Vec<String>,
    /// Where Docker reads CDI device specs; empty when CDI is off (Docker before 25, or the
    /// `cdi` feature not enabled).
    pub cdi_spec_dirs: Vec<String>,
}

/// The way GPUs reach a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuPath {
    /// Docker's `--gpus`: the `nvidia` device driver of the NVIDIA container toolkit.
    Nvidia,
    /// Container Device Interface: devices named `nvidia.com/gpu=ID` in a CDI spec.
    Cdi,
}

/// A service's GPUs and the path they take: what the container asks Docker for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuRequest {
    pub gpus: Gpus,
    pub path: GpuPath,
}

impl GpuSupport {
    /// The path to use: the NVIDIA toolkit when registered, else CDI when enabled, else none.
    pub fn path(&self) -> Option<GpuPath> {
        if !self.nvidia_runtimes.is_empty() {
            Some(GpuPath::Nvidia)
        } else if !self.cdi_spec_dirs.is_empty() {
            Some(GpuPath::Cdi)
        } else {
            None
        }
    }

    /// One line for people: what Docker offers, or why nothing.
    pub fn describe(&self) -> String {
        match self.path() {
            Some(GpuPath::Nvidia) => format!(
                "NVIDIA container runtime ({})",
                self.nvidia_runtimes.join(", ")
            ),
            Some(GpuPath::Cdi) => format!("CDI device specs in {}", self.cdi_spec_dirs.join(", ")),
            None => {
                "none: no NVIDIA container runtime is registered and CDI is not enabled".to_owned()
            }
        }
    }
}

/// The device requests of a container with `request`; none for `Gpus::None`.
pub(super) fn device_requests(request: &GpuRequest) -> Option<Vec<DeviceRequest>> {
    let gpu_caps = || Some(vec![vec!["gpu".to_owned()]]);
    let ids = |ids: &[String]| Some(ids.to_vec());
    let one = match (request.path, &request.gpus) {
        (_, Gpus::None) => return None,
        (GpuPath::Nvidia, Gpus::All) => DeviceRequest {
            driver: Some("nvidia".to_owned()),
            count: Some(-1),
            capabilities: gpu_caps(),
            ..Default::default()
        },
        (GpuPath::Nvidia, Gpus::Count(n)) => DeviceRequest {
            driver: Some("nvidia".to_owned()),
            count: Some(i64::from(*n)),
            capabilities: gpu_caps(),
            ..Default::default()
        },
        (GpuPath::Nvidia, Gpus::Devices(devices)) => DeviceRequest {
            driver: Some("nvidia".to_owned()),
            device_ids: ids(devices),
            capabilities: gpu_caps(),
            ..Default::default()
        },
        // CDI names devices; a count cannot be expressed (preflight refuses it first), so it is
        // sent as all of them rather than silently as none.
        (GpuPath::Cdi, Gpus::All | Gpus::Count(_)) => DeviceRequest {
            driver: Some("cdi".to_owned()),
            device_ids: Some(vec!["nvidia.com/gpu=all".to_owned()]),
            ..Default::default()
        },
        (GpuPath::Cdi, Gpus::Devices(devices)) => DeviceRequest {
            driver: Some("cdi".to_owned()),
            device_ids: Some(
                devices
                    .iter()
                    .map(|d| format!("nvidia.com/gpu={d}"))
                    .collect(),
            ),
            ..Default::default()
        },
    };
    Some(vec![one])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(gpus: &str, path: GpuPath) -> Option<Vec<DeviceRequest>> {
        device_requests(&GpuRequest {
            gpus: Gpus::parse(gpus).unwrap(),
            path,
        })
    }

    #[test]
    fn the_toolkit_path_asks_for_all_a_count_or_named_devices() {
        let all = request("all", GpuPath::Nvidia).unwrap();
        assert_eq!((all[0].count, all[0].device_ids.as_ref()), (Some(-1), None));
        let two = request("count=2", GpuPath::Nvidia).unwrap();
        assert_eq!(two[0].count, Some(2));
        let named = request("0,GPU-ab", GpuPath::Nvidia).unwrap();
        assert_eq!(named[0].count, None);
        assert_eq!(
            named[0].device_ids,
            Some(vec!["0".to_owned(), "GPU-ab".to_owned()])
        );
        assert_eq!(named[0].driver.as_deref(), Some("nvidia"));
        assert_eq!(request("none", GpuPath::Nvidia), None);
    }

    #[test]
    fn the_cdi_path_names_qualified_devices() {
        let named = request("1", GpuPath::Cdi).unwrap();
        assert_eq!(named[0].driver.as_deref(), Some("cdi"));
        assert_eq!(
            named[0].device_ids,
            Some(vec!["nvidia.com/gpu=1".to_owned()])
        );
        let all = request("all", GpuPath::Cdi).unwrap();
        assert_eq!(
            all[0].device_ids,
            Some(vec!["nvidia.com/gpu=all".to_owned()])
        );
    }

    #[test]
    fn the_toolkit_is_preferred_and_nothing_is_said_plainly() {
        let both = GpuSupport {
            nvidia_runtimes: vec!["nvidia".into()],
            cdi_spec_dirs: vec!["/etc/cdi".into()],
        };
        assert_eq!(both.path(), Some(GpuPath::Nvidia));
        let cdi = GpuSupport {
            cdi_spec_dirs: vec!["/etc/cdi".into()],
            ..Default::default()
        };
        assert_eq!(cdi.path(), Some(GpuPath::Cdi));
        assert_eq!(GpuSupport::default().path(), None);
        assert!(GpuSupport::default().describe().starts_with("none:"));
    }
}
