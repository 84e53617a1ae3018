import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files the ACME side keeps: private keys and certificates, owner-only (0600) from the first byte and
/// renamed into place, so a reader sees the old file or the new one, never half of one.
public enum ACMEFiles {
    public static func writePrivate(_ data: Data, to path: String) throws(ACMEFailure) {
        let dir = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw ACMEFailure(.storage, "cannot create \(dir)", cause: "\(error)")
        }
        let temp = path + ".tmp.\(getpid())"
        try? FileManager.default.removeItem(atPath: temp)
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ACMEFailure(.storage, "cannot write \(temp); check the permissions of \(dir)")
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw ACMEFailure(.storage, "cannot rename \(temp) to \(path)", cause: why)
        }
    }
}
