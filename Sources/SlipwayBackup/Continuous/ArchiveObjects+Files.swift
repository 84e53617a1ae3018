import Foundation
import SlipwayCore
import SlipwayRuntime

/// Files in and out of a continuous archive the way backups are stored: compressed (the key's extension names the
/// codec), then encrypted when the backups are (`.enc`).
extension Array where Element == any ArchiveObjects {
    /// `file` compressed with `codec` and sealed with `key` (when set), put at `name` + extensions in every store.
    /// Returns the key it was stored under.
    func putCompressed(_ file: String, as name: String, codec: Codec, key: BackupKey?, scratch: String, log: String) async throws(SlipwayError) -> String {
        var upload = file, objectKey = name
        var temps: [String] = []
        defer { for t in temps { try? FileManager.default.removeItem(atPath: t) } }
        if let stage = codec.compressStage {
            let out = "\(scratch)/.put-\(UUID().uuidString.prefix(8))\(codec.fileExtension)"
            temps.append(out)
            try await ProcessPipeline([stage], input: file, output: out, logFile: log).run()
            upload = out
            objectKey += codec.fileExtension
        }
        return try await putSealed(upload, as: objectKey, key: key)
    }

    /// `value` as JSON at `name` in every store (a generation's or a base's description, written after what it describes).
    func putDocument<T: Encodable>(_ value: T, as name: String, scratch: String) async throws(SlipwayError) {
        let json = "\(scratch)/.doc-\(UUID().uuidString.prefix(8)).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        do { try JSONEncoder().encode(value).write(to: URL(fileURLWithPath: json)) } catch { throw SlipwayError(.internal, "cannot write \(json)", cause: error) }
        for store in self { try await store.putObject(name, file: json) }
    }

    /// `file` (already compressed, or plain) sealed with `key` when set and put at `name` (+ `.enc`) in every store.
    func putSealed(_ file: String, as name: String, key: BackupKey?) async throws(SlipwayError) -> String {
        guard let key else {
            for store in self { try await store.putObject(name, file: file) }
            return name
        }
        let sealed = file + ".enc"
        defer { try? FileManager.default.removeItem(atPath: sealed) }
        _ = try BackupCipher.encrypt(file, to: sealed, key: key)
        for store in self { try await store.putObject(name + ".enc", file: sealed) }
        return name + ".enc"
    }
}

extension ArchiveObjects {
    /// The JSON documents among `keys` whose name is `file` (`generation.json`, `base.json`), decoded; one that does not
    /// decode is skipped (its generation or base is incomplete, and never restored from).
    func documents<T: Decodable>(_ type: T.Type, named file: String, among keys: [String], scratch: String) async throws(SlipwayError) -> [T] {
        let temp = "\(scratch)/.doc-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        var out: [T] = []
        for k in keys where k.hasSuffix("/" + file) {
            try await getObject(k, to: temp)
            if let data = FileManager.default.contents(atPath: temp), let doc = try? JSONDecoder().decode(T.self, from: data) { out.append(doc) }
        }
        return out
    }

    /// The object at `objectKey` as plain bytes in `file`: decrypted (`.enc`, with `key`), then decompressed (`.zst`, `.gz`).
    func fetchPlain(_ objectKey: String, to file: String, key: BackupKey?, scratch: String, log: String) async throws(SlipwayError) {
        let raw = "\(scratch)/.get-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let codec = try await fetchOpened(objectKey, to: raw, key: key)
        guard codec != .none else {
            try? FileManager.default.removeItem(atPath: file)
            do { try FileManager.default.moveItem(atPath: raw, toPath: file) } catch { throw SlipwayError(.failed, "cannot write \(file)", cause: error) }
            return
        }
        try await ProcessPipeline(codec.decompressStages, input: raw, output: file, logFile: log).run()
    }

    /// The object at `objectKey` in `file`, decrypted when sealed; returns the codec it is still compressed with.
    func fetchOpened(_ objectKey: String, to file: String, key: BackupKey?) async throws(SlipwayError) -> Codec {
        var name = objectKey
        guard name.hasSuffix(".enc") else {
            try await getObject(objectKey, to: file)
            return Codec.of(name)
        }
        guard let key else { throw .usage("\(objectKey) is encrypted: set backup.encryption_key_secret's secret to restore it") }
        let sealed = file + ".enc"
        defer { try? FileManager.default.removeItem(atPath: sealed) }
        try await getObject(objectKey, to: sealed)
        try BackupCipher.decrypt(sealed, to: file, key: key)
        name.removeLast(4)
        return Codec.of(name)
    }
}

extension Codec {
    /// The codec a file name's extension says (`none` for neither `.zst` nor `.gz`).
    static func of(_ name: String) -> Codec {
        Codec.allCases.first { $0 != .none && name.hasSuffix($0.fileExtension) } ?? .none
    }
}
