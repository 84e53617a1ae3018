import Foundation
import SlipwayCore
import SlipwayRuntime

/// Files the ACME side keeps: private keys and certificates, owner-only (0600) and replaced whole (`PrivateFile`).
public enum ACMEFiles {
    public static func writePrivate(_ data: Data, to path: String) throws(ACMEFailure) {
        do { try PrivateFile.write(data, to: path) } catch {
            throw ACMEFailure(.storage, error.message, cause: error.cause)
        }
    }

    /// A certificate and its key: the key first, so the pair is complete once the certificate lands (the router
    /// reloads when the certificate's file changes).
    public static func writePair(certificatePEM: String, keyPEM: String, certFile: String, keyFile: String) throws(ACMEFailure) {
        try writePrivate(Data(keyPEM.utf8), to: keyFile)
        try writePrivate(Data(certificatePEM.utf8), to: certFile)
    }
}
