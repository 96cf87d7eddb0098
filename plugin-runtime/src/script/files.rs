//! Reading files a hostile project may have laid out: the worker's modules,
//! `package.json` files the package resolver reads, and (from the binary)
//! wrangler files and certificates. A named pipe there must not hang a
//! `--test` or a reload, and a 2 GiB file must not be read into memory to
//! find out it is too large.

use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Reads the regular file at `path` if it holds at most `max` bytes.
///
/// The file is opened non-blocking, so a FIFO (which would block `open`
/// until a writer comes) is refused at once like any other file that is not
/// regular (a directory, a device, a socket); a larger file is refused from
/// its size, and one that grows while it is read stops at `max + 1` bytes.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::ErrorKind::IsADirectory.into());
    }
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file (a FIFO, a device or a socket)"));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than the {} limit", human(max)),
        )
    };
    if meta.len() > max {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(too_large());
    }
    Ok(buf)
}

/// [`read_bounded`], as UTF-8 text.
pub fn read_bounded_string(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, max)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = std::env::temp_dir().join(format!("isoproxy-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small");
        std::fs::write(&small, b"hello").unwrap();
        assert_eq!(read_bounded(&small, 5).unwrap(), b"hello");
        let e = read_bounded(&small, 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge, "{e}");
        assert_eq!(read_bounded(&dir, 5).unwrap_err().kind(), io::ErrorKind::IsADirectory);
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // Would block forever in open(2) without O_NONBLOCK.
        let e = read_bounded(&fifo, 5).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(read_bounded(Path::new("/dev/zero"), 5).is_err());
        std::fs::write(&small, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_bounded_string(&small, 5).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
