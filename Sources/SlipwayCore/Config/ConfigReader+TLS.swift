import Foundation
import Yams

/// `{ cert: FILE, key: FILE }`, as `server.tls` and `router.tls` read it: relative paths are the config
/// file's directory's; each file must be readable and be PEM of the right kind.
extension ConfigReader {
    func tlsFiles(_ node: Node, _ path: String, directory: String) -> TLSFiles? {
        guard let files = mapping(node, path, allowed: ["cert", "key"]) else { return nil }
        var cert: String?, key: String?
        for f in files {
            guard let given = string(f.value, "\(path).\(f.key)") else { continue }
            let absolute = given.hasPrefix("/") ? given : directory + "/" + given
            guard FileManager.default.isReadableFile(atPath: absolute), let data = FileManager.default.contents(atPath: absolute) else {
                problem(f.value, "\(path).\(f.key)", "cannot read \(absolute); expected a PEM file")
                continue
            }
            // A quick look only (the router parses them): the right kind of PEM block is in the file.
            let text = String(decoding: data.prefix(1 << 20), as: UTF8.self)
            let wanted = f.key == "cert" ? "-----BEGIN CERTIFICATE-----" : "PRIVATE KEY-----"
            guard text.contains(wanted) else {
                problem(f.value, "\(path).\(f.key)", f.key == "cert" ? "\(absolute) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                                                                   : "\(absolute) holds no PEM private key (-----BEGIN … PRIVATE KEY-----)")
                continue
            }
            if f.key == "cert" { cert = absolute } else { key = absolute }
        }
        if !files.contains(where: { $0.key == "cert" }) { problem(node, "\(path).cert", "missing required key (the certificate chain, PEM)") }
        if !files.contains(where: { $0.key == "key" }) { problem(node, "\(path).key", "missing required key (the private key, PEM)") }
        guard let cert, let key else { return nil }
        return TLSFiles(cert: cert, key: key)
    }
}
