import Foundation
import SlipwayCore

extension BackupService {
    /// With an encryption key: replaces the archive of `entry` in staging by its encrypted form
    /// (`<file>.enc`), with the size and sha256 of what is stored.
    func encrypted(_ entry: BackupManifest.Entry, staging: String) async throws(SlipwayError) -> BackupManifest.Entry {
        guard let key = encryptionKey else { return entry }
        let plain = "\(staging)/\(entry.file)"
        let sealed = plain + ".enc"
        let sum = try await blocking { () throws(SlipwayError) in try BackupCipher.encrypt(plain, to: sealed, key: key) }
        try? FileManager.default.removeItem(atPath: plain)
        var out = entry
        out.file = entry.file + ".enc"
        out.size = Checksum.size(sealed)
        out.sha256 = sum
        out.encrypted = true
        return out
    }

    /// The archive at `path` decrypted into scratch (the caller removes it), for an encrypted entry.
    func decrypted(_ manifest: BackupManifest, _ entry: BackupManifest.Entry, path: String, scratch: String) async throws(SlipwayError) -> String {
        let name = manifest.encryption?.keySecret ?? settings.encryptionKeySecret ?? "the encryption key"
        guard let key = encryptionKey else {
            throw .usage("backup \(manifest.id) is encrypted; set backup.encryption_key_secret to the secret that holds its key (\(name))")
        }
        if let id = manifest.encryption?.keyId, id != BackupCipher.keyID(key) {
            throw .failed("backup \(manifest.id) was encrypted with another key (id \(id)); the key in \(settings.encryptionKeySecret ?? name) has id \(BackupCipher.keyID(key))")
        }
        let out = "\(scratch)/\(SourceArchiver.scratchName("decrypted"))"
        do throws(SlipwayError) {
            try await blocking { () throws(SlipwayError) in try BackupCipher.decrypt(path, to: out, key: key) }
        } catch {
            try? FileManager.default.removeItem(atPath: out)
            throw error
        }
        return out
    }
}
