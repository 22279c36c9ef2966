//! The in-memory Docker build context: this binary, the shared libraries it
//! needs, a `FROM scratch` Dockerfile, and the content-derived image tag.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

pub const REPOSITORY: &str = "aima-engine-sim";
const BINARY_PATH: &str = "/aima-engine-sim";
/// Everything under this context directory lands at `/` in the image.
const ROOTFS: &str = "rootfs";

pub struct BuildContext {
    /// Uncompressed tar archive, ready to send to `POST /build`.
    pub archive: Vec<u8>,
    /// `repository:tag`, where the tag is derived from `archive`.
    pub image: String,
}

/// Collects the running binary and its runtime dependencies. The image is
/// `FROM scratch` because nothing can be pulled, so the dynamic loader and
/// every library must be shipped at the absolute paths the binary expects.
pub fn collect(env: &[(String, String)]) -> Result<BuildContext, Box<dyn Error + Send + Sync>> {
    // Read what is actually running, even if the file on disk was rebuilt since.
    let binary =
        std::fs::read("/proc/self/exe").map_err(|e| format!("cannot read /proc/self/exe: {e}"))?;
    // `ldd /proc/self/exe` would inspect ldd's own process, so resolve the path first.
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate own binary: {e}"))?;

    let mut files = BTreeMap::new();
    files.insert(BINARY_PATH.to_owned(), binary);
    for lib in shared_libraries(&exe)? {
        let bytes = std::fs::read(&lib).map_err(|e| format!("cannot read {lib}: {e}"))?;
        files.insert(lib, bytes);
    }
    let archive = archive(&files, &dockerfile(env))?;
    let image = format!("{REPOSITORY}:{}", content_tag(&archive));
    Ok(BuildContext { archive, image })
}

fn shared_libraries(exe: &Path) -> Result<Vec<String>, Box<dyn Error + Send + Sync>> {
    let output = Command::new("ldd")
        .arg(exe)
        .output()
        .map_err(|e| format!("cannot run ldd (needed to find shared libraries): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let both = format!("{stdout}{stderr}");
        if both.contains("not a dynamic executable") || both.contains("statically linked") {
            return Ok(Vec::new());
        }
        return Err(format!("ldd {} failed: {}", exe.display(), stderr.trim()).into());
    }
    Ok(parse_ldd(&stdout)?)
}

/// Extracts absolute library paths from `ldd` output. Lines look like
/// `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, or just
/// `/lib64/ld-linux-x86-64.so.2 (0x...)` for the loader; `linux-vdso.so.1`
/// has no file and is provided by the kernel.
fn parse_ldd(output: &str) -> Result<Vec<String>, String> {
    let mut libs = Vec::new();
    for line in output.lines().map(str::trim) {
        let target = line.split_once("=>").map_or(line, |(_, t)| t.trim());
        if target.starts_with("not found") {
            return Err(format!("missing shared library: {line}"));
        }
        let path = target.split_whitespace().next().unwrap_or_default();
        if path.starts_with('/') {
            libs.push(path.to_owned());
        }
    }
    Ok(libs)
}

fn dockerfile(env: &[(String, String)]) -> String {
    let mut text = format!("FROM scratch\nCOPY {ROOTFS}/ /\n");
    for (key, value) in env {
        // Inside double quotes Docker still expands `$` and honours `\` escapes.
        let quoted: String = value
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' | '$' => vec!['\\', c],
                _ => vec![c],
            })
            .collect();
        text.push_str(&format!("ENV {key}=\"{quoted}\"\n"));
    }
    text.push_str("LABEL aima.test=\"engine-sim\"\n");
    text.push_str(&format!("ENTRYPOINT [\"{BINARY_PATH}\",\"serve\"]\n"));
    text
}

/// Fixed metadata (mtime 0, root owner) keeps the archive, and thus the tag,
/// a pure function of the file contents, paths and Dockerfile.
fn archive(files: &BTreeMap<String, Vec<u8>>, dockerfile: &str) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut append = |path: &str, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        tar.append_data(&mut header, path, data)
    };
    append("Dockerfile", 0o644, dockerfile.as_bytes())?;
    for (path, bytes) in files {
        // The kernel requires the loader to be executable too, so 0755 for all.
        append(&format!("{ROOTFS}{path}"), 0o755, bytes)?;
    }
    tar.into_inner()
}

fn content_tag(archive: &[u8]) -> String {
    let digest = Sha256::digest(archive);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ldd_output() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            parse_ldd(out).unwrap(),
            [
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert!(parse_ldd("\tlibfoo.so => not found\n").is_err());
    }

    #[test]
    fn dockerfile_quotes_env_values() {
        let env = [("A".to_owned(), r#"x "$y" \z"#.to_owned())];
        let text = dockerfile(&env);
        assert!(text.starts_with("FROM scratch\n"), "{text}");
        assert!(text.contains(r#"ENV A="x \"\$y\" \\z""#), "{text}");
        assert!(text.ends_with("ENTRYPOINT [\"/aima-engine-sim\",\"serve\"]\n"));
    }

    #[test]
    fn tag_depends_on_content() {
        let files = BTreeMap::from([("/bin".to_owned(), b"abc".to_vec())]);
        let a = archive(&files, "FROM scratch\n").unwrap();
        let b = archive(&files, "FROM scratch\nENV A=\"1\"\n").unwrap();
        assert_eq!(
            content_tag(&a),
            content_tag(&archive(&files, "FROM scratch\n").unwrap())
        );
        assert_ne!(content_tag(&a), content_tag(&b));
        assert_eq!(content_tag(&a).len(), 16);
    }
}
