#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import SlipwayCore

public enum Checksum {
    /// sha256 of a file, read in 4 MiB blocks, as lowercase hex.
    public static func sha256(file path: String) throws(SlipwayError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SlipwayError(.failed, "cannot read \(path)", cause: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        let size = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw SlipwayError(.failed, "cannot read \(path)", cause: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return Hex.string(hasher.finalize())
    }

    /// The same, off the concurrency pool.
    public static func sha256(path: String) async throws(SlipwayError) -> String {
        try await blocking { () throws(SlipwayError) in try sha256(file: path) }
    }

    public static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// A file's sha256 being computed in the background, to be awaited before anything is committed.
public final class PendingChecksum: Sendable {
    let task: Task<String, any Error>
    let expected: String
    let label: String

    init(path: String, expected: String, label: String) {
        self.expected = expected
        self.label = label
        task = Task { try await Checksum.sha256(path: path) }
    }

    /// Throws unless the file matches the manifest's sha256.
    public func wait() async throws(SlipwayError) {
        let sum: String
        do { sum = try await task.value } catch {
            throw (error as? SlipwayError) ?? SlipwayError(.failed, "cannot checksum \(label)", cause: error)
        }
        guard sum == expected else { throw .failed("\(label) does not match its checksum") }
    }

    func matches() async -> Bool { (try? await task.value) == expected }
}
