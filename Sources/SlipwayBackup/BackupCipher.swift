#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import SlipwayCore

/// Encryption at rest: AES-256-GCM over 1 MiB chunks, streamed file to file (never whole in memory).
///
/// File layout: `SLWYENC1` · 32-byte random salt · chunk size (UInt32 BE) · chunks of ciphertext+tag.
/// Each file has its own key, HKDF-SHA256(configured key, salt), so chunk nonces can be counters:
/// nonce = chunk index (UInt64 BE) · 0 0 0 · final flag. The flag on the last chunk makes a truncated
/// file fail to decrypt, and the header is authenticated as additional data on every chunk.
public enum BackupCipher {
    static let magic = Array("SLWYENC1".utf8)
    static let chunkSize = 1 << 20
    static let tagSize = 16
    public static let algorithm = "AES-256-GCM"

    /// The key in secret `name`: 32 bytes, base64 or 64 hex digits. The error never shows the value.
    public static func key(_ value: String, secret name: String) throws(SlipwayError) -> BackupKey {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: text), data.count == 32 { return BackupKey(bytes: Array(data)) }
        if text.count == 64, let bytes = Hex.bytes(text) { return BackupKey(bytes: bytes) }
        throw .usage("secret \(name) must hold a 256-bit key as base64 (44 characters) or 64 hex digits; make one with: openssl rand -base64 32")
    }

    /// A short public fingerprint of a key, recorded in manifests to tell keys apart.
    public static func keyID(_ key: BackupKey) -> String {
        let digest = SHA256.hash(data: Data("slipway-key-id".utf8) + Data(key.bytes))
        return Hex.string(digest.prefix(8))
    }

    /// Encrypts `input` into `output`; returns the sha256 of what it wrote.
    public static func encrypt(_ input: String, to output: String, key: BackupKey) throws(SlipwayError) -> String {
        var salt = [UInt8](repeating: 0, count: 32)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255) }
        let header = magic + salt + withUnsafeBytes(of: UInt32(chunkSize).bigEndian, Array.init)
        let fileKey = derive(key, salt: salt)
        let reader = try ChunkFile(input, write: false)
        let writer = try ChunkFile(output, write: true)
        var hasher = SHA256()
        func emit(_ bytes: some DataProtocol) throws(SlipwayError) {
            hasher.update(data: bytes)
            try writer.write(bytes)
        }
        try emit(header)
        var index: UInt64 = 0
        var current = try reader.read(chunkSize)
        while true {
            let next = current.count == chunkSize ? try reader.read(chunkSize) : []
            let final = next.isEmpty
            do {
                let box = try AES.GCM.seal(current, using: fileKey, nonce: nonce(index, final: final), authenticating: header)
                try emit(box.ciphertext)
                try emit(box.tag)
            } catch let error as SlipwayError { throw error } catch {
                throw SlipwayError(.failed, "cannot encrypt \(input)", cause: error)
            }
            if final { break }
            current = next
            index += 1
        }
        try writer.close()
        return Hex.string(hasher.finalize())
    }

    /// Decrypts `input` into `output`; a wrong key, a changed byte or a truncated file is an error.
    public static func decrypt(_ input: String, to output: String, key: BackupKey) throws(SlipwayError) {
        let reader = try ChunkFile(input, write: false)
        let header = try reader.read(magic.count + 36)
        guard header.count == magic.count + 36, Array(header.prefix(magic.count)) == magic else {
            throw .failed("\(input) is not a Slipway encrypted archive")
        }
        let salt = Array(header[magic.count..<(magic.count + 32)])
        let size = Int(header.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard size > 0, size <= 64 << 20 else { throw .failed("\(input): bad chunk size in the header") }
        let fileKey = derive(key, salt: salt)
        let writer = try ChunkFile(output, write: true)
        var index: UInt64 = 0
        var current = try reader.read(size + tagSize)
        while true {
            let next = current.count == size + tagSize ? try reader.read(size + tagSize) : []
            let final = next.isEmpty
            guard current.count >= tagSize else { throw .failed("\(input) is truncated") }
            do {
                let box = try AES.GCM.SealedBox(nonce: nonce(index, final: final), ciphertext: current.dropLast(tagSize), tag: current.suffix(tagSize))
                try writer.write(try AES.GCM.open(box, using: fileKey, authenticating: header))
            } catch let error as SlipwayError { throw error } catch {
                throw SlipwayError(.failed, "\(input) does not decrypt with the configured key (wrong key, or the file was changed or truncated)", cause: error)
            }
            if final { break }
            current = next
            index += 1
        }
        try writer.close()
    }

    static func derive(_ key: BackupKey, salt: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key.bytes), salt: salt, info: Data("slipway-backup-v1".utf8), outputByteCount: 32)
    }

    static func nonce(_ index: UInt64, final: Bool) -> AES.GCM.Nonce {
        let bytes = withUnsafeBytes(of: index.bigEndian, Array.init) + [0, 0, 0, final ? 1 : 0]
        return try! AES.GCM.Nonce(data: bytes)  // 12 bytes: always valid
    }
}

/// A 256-bit key for `BackupCipher` (raw bytes, so it can cross tasks).
public struct BackupKey: Sendable {
    let bytes: [UInt8]
}

/// A file read or written in chunks through a raw descriptor.
final class ChunkFile {
    let fd: Int32
    let path: String

    init(_ path: String, write: Bool) throws(SlipwayError) {
        self.path = path
        fd = write ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SlipwayError(.failed, "cannot open \(path)", cause: String(cString: strerror(errno))) }
    }

    deinit { Glibc.close(fd) }

    /// Up to `count` bytes; fewer only at the end of the file.
    func read(_ count: Int) throws(SlipwayError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SlipwayError(.failed, "cannot read \(path)", cause: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        out.removeLast(count - filled)
        return out
    }

    func write(_ bytes: some DataProtocol) throws(SlipwayError) {
        let data = Array(bytes)
        do { try StreamEnd.write(fd, data, 0..<data.count) } catch {
            throw SlipwayError(.failed, "cannot write \(path)", cause: error.cause ?? error.message)
        }
    }

    func close() throws(SlipwayError) {
        guard fsync(fd) == 0 else { throw SlipwayError(.failed, "cannot write \(path)", cause: String(cString: strerror(errno))) }
    }
}
