import Foundation
import SlipwayCore
#if canImport(Glibc)
import Glibc
#endif

/// A file only its owner reads (0600 from the first byte), replaced whole: written beside under a temporary
/// name and renamed over, so a reader (or a crash) sees the old file or the new one, never half of one.
/// Route tables, the edge's apps, ACME keys and certificates, the router's pid file.
public enum PrivateFile {
    /// Writes `data` to `path`, creating its directory (0700) when missing.
    public static func write(_ data: Data, to path: String) throws(SlipwayError) {
        let dir = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw SlipwayError(.internal, "cannot create \(dir)", cause: error)
        }
        let temp = path + ".tmp.\(getpid())"
        // A temporary file of an earlier attempt by this pid (cut short): replaced; if it cannot be, createFile says so.
        try? FileManager.default.removeItem(atPath: temp)
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw SlipwayError(.internal, "cannot write \(temp); check the permissions of \(dir)")
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            // Best effort: the rename's error is the one reported.
            try? FileManager.default.removeItem(atPath: temp)
            throw SlipwayError(.internal, "cannot rename \(temp) to \(path)", cause: why)
        }
    }
}
