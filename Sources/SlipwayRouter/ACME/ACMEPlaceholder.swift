import Foundation
import Logging
import SlipwayACME
import SlipwayCore

/// The self-signed certificate an ACME address serves until its first real one is issued (or after the files
/// were lost): without one the HTTPS listener could not start, and TLS-ALPN-01 is answered on it.
enum ACMEPlaceholder {
    /// Writes a placeholder when the certificate files are missing, or hold an expired placeholder.
    static func ensure(_ tls: RouterTLS, hosts: [String], logger: Logger) {
        let fm = FileManager.default
        if fm.fileExists(atPath: tls.certFile), fm.fileExists(atPath: tls.keyFile) {
            guard let facts = CertificateFacts(file: tls.certFile), facts.isPlaceholder, facts.notAfter < Date() + 86_400 else { return }
        }
        do {
            let made = try ChallengeCertificate.placeholder(names: hosts)
            try ACMEFiles.writePair(certificatePEM: made.certificatePEM, keyPEM: made.keyPEM, certFile: tls.certFile, keyFile: tls.keyFile)
            logger.info("serving a placeholder certificate until ACME issues one", metadata: ["router.cert": "\(tls.certFile)"])
        } catch {
            logger.error("cannot write the placeholder certificate", metadata: ["router.cert": "\(tls.certFile)", "error": "\(error)"])
        }
    }
}
