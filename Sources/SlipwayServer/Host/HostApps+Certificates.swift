import Foundation
import Logging
import SlipwayClient
import SlipwayCore

/// A fleet's certificate on this host: passed to the app's daemon, which has its router answer the controller's
/// challenges and serve the certificate the controller obtained (the host never asks the CA itself).
extension HostApps {
    func challenge(app: String, _ answer: ChallengeAnswer) async throws(SlipwayError) {
        try Self.validApp(app)
        let _: [String: String] = try await daemon(app).post("/v1/acme/challenges", answer)
    }

    func installCertificate(app: String, environment: String, _ install: CertificateInstall) async throws(SlipwayError) {
        try Self.validApp(app)
        let _: [String: String] = try await daemon(app).put("/v1/certificates/\(environment)", install)
        logger.info("installed the fleet's certificate", metadata: ["app": "\(app)", "environment": "\(environment)"])
    }
}
