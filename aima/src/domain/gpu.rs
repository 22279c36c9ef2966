//! Which GPUs an engine container gets: none, all, any N, or named devices; and when two
//! services' choices may land on the same device.

use std::fmt;

use serde::{Serialize, Serializer};

/// A service's GPU choice, written as on the command line: `none`, `all`, `count=N`, or device
/// indexes / UUIDs separated by commas (`0`, `0,1`, `GPU-3f…`).
///
/// A bare number names a device (as `nvidia-smi` and `CUDA_VISIBLE_DEVICES` do), never a
/// count: `--gpus 1` is the second GPU, `--gpus count=1` is any one GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gpus {
    None,
    All,
    /// Any `n` GPUs, as Docker picks them.
    Count(u32),
    /// These devices, by index or UUID, in the order given, without duplicates.
    Devices(Vec<String>),
}

impl Gpus {
    /// Parses the command-line form; the error says what is accepted. A device is an index
    /// (`0`) or an NVIDIA UUID (`GPU-…`, `MIG-…`); `all` and `none` stand alone.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::parse_with(text, is_device)
    }

    /// A choice as stored, which rows written before devices were checked may hold in a looser
    /// form (any letters, digits, `-`, `_`, `:`): reading them back must not fail.
    pub fn from_stored(text: &str) -> Result<Self, String> {
        Self::parse_with(text, |id| {
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':')
        })
    }

    fn parse_with(text: &str, device: impl Fn(&str) -> bool) -> Result<Self, String> {
        let text = text.trim();
        let expected = "expected all, none, count=N, or device indexes or UUIDs separated by commas (0 or 0,1)";
        match text.to_ascii_lowercase().as_str() {
            "" => return Err(format!("no GPUs given: {expected}")),
            "all" => return Ok(Gpus::All),
            "none" => return Ok(Gpus::None),
            _ => {}
        }
        if let Some(n) = text.strip_prefix("count=") {
            return match n.parse::<u32>() {
                Ok(n) if n > 0 => Ok(Gpus::Count(n)),
                _ => Err(format!(
                    "{text:?} is not a GPU count: count= takes a whole number above 0"
                )),
            };
        }
        let mut devices: Vec<String> = Vec::new();
        for id in text.split(',').map(str::trim) {
            if ["all", "none"].contains(&id.to_ascii_lowercase().as_str()) {
                return Err(format!(
                    "{text:?} mixes {id} with devices: {id} stands alone; {expected}"
                ));
            }
            if id.is_empty() || !device(id) {
                return Err(format!(
                    "{id:?} in {text:?} is not a GPU device: {expected}"
                ));
            }
            if !devices.iter().any(|d| d == id) {
                devices.push(id.to_owned());
            }
        }
        Ok(Gpus::Devices(devices))
    }

    pub fn is_none(&self) -> bool {
        *self == Gpus::None
    }

    /// Whether the two choices may use the same device. Docker picks the devices of `all` and
    /// `count=N` itself, so those may meet any other choice that uses a GPU.
    pub fn overlaps(&self, other: &Gpus) -> bool {
        match (self, other) {
            (Gpus::None, _) | (_, Gpus::None) => false,
            (Gpus::Devices(a), Gpus::Devices(b)) => a.iter().any(|d| b.contains(d)),
            _ => true,
        }
    }
}

/// `0`, `12`: an index as `nvidia-smi` numbers them; `GPU-3f2a…`, `MIG-…`: a device's UUID.
fn is_device(id: &str) -> bool {
    if id.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let uuid = ["GPU-", "MIG-"]
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix));
    uuid.is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '/'))
    })
}

impl fmt::Display for Gpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gpus::None => f.write_str("none"),
            Gpus::All => f.write_str("all"),
            Gpus::Count(n) => write!(f, "count={n}"),
            Gpus::Devices(ids) => f.write_str(&ids.join(",")),
        }
    }
}

impl Serialize for Gpus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Gpus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::wire::text(d, Gpus::from_stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_forms_parse_and_print_back() {
        for text in ["all", "none", "count=2", "0", "0,1", "GPU-3f2a-77"] {
            assert_eq!(Gpus::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Gpus::parse("1").unwrap(), Gpus::Devices(vec!["1".into()]));
        assert_eq!(
            Gpus::parse(" 1, 0,1 ").unwrap(),
            Gpus::Devices(vec!["1".into(), "0".into()])
        );
    }

    #[test]
    fn bad_forms_say_what_is_accepted() {
        for bad in [
            "", "count=0", "count=x", "0,,1", "0;1", "a b", "foo", "2x", "all,0", "none,0",
        ] {
            let e = Gpus::parse(bad).unwrap_err();
            assert!(e.contains("count=") || e.contains("GPU"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn stored_rows_of_the_older_looser_form_still_read() {
        assert_eq!(
            Gpus::from_stored("foo").unwrap(),
            Gpus::Devices(vec!["foo".into()])
        );
        assert_eq!(Gpus::from_stored("all").unwrap(), Gpus::All);
    }

    #[test]
    fn devices_overlap_only_when_they_share_one() {
        let d = |t| Gpus::parse(t).unwrap();
        assert!(d("0").overlaps(&d("1,0")));
        assert!(!d("0").overlaps(&d("1")));
        assert!(d("all").overlaps(&d("1")));
        assert!(d("count=1").overlaps(&d("count=1")));
        assert!(!d("none").overlaps(&d("all")));
        assert!(!d("all").overlaps(&d("none")));
    }
}
