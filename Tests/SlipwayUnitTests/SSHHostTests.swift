import Foundation
import SlipwayCore
@testable import SlipwayFleet
import Testing

/// How the controller starts ssh for a host: the options it always passes, and which failures it tries again.
struct SSHHostTests {
    @Test func sshRunsInBatchModeWithKeepAlivesOverOneControlSocketPerHost() {
        var settings = SSHSettings()
        settings.config = "/etc/slipway/ssh_config"
        settings.keepAlive = .seconds(5)
        let h = SSHHost(destination: "deploy@10.0.0.3", settings: settings, scratch: "/tmp")
        let argv = h.arguments(["-N", h.destination])
        #expect(argv.prefix(3) == ["ssh", "-F", "/etc/slipway/ssh_config"])
        for option in ["BatchMode=yes", "ServerAliveInterval=5", "ServerAliveCountMax=3", "ConnectionAttempts=3", "ControlPath=\(h.controlPath)"] {
            #expect(argv.contains(option), "\(option) in \(argv)")
        }
        #expect(h.controlPath != SSHHost(destination: "web1", settings: settings, scratch: "/tmp").controlPath, "one control socket per host")
        #expect(h.controlPath.utf8.count < 108, "a unix socket path fits")
    }

    @Test func onlyATemporaryNameResolutionFailureIsTriedAgain() {
        #expect(SSHHost.isTemporaryResolutionFailure("ssh: Could not resolve hostname web1: Temporary failure in name resolution"))
        #expect(!SSHHost.isTemporaryResolutionFailure("ssh: Could not resolve hostname web9: Name or service not known"), "a name that does not exist")
        #expect(!SSHHost.isTemporaryResolutionFailure("ssh: connect to host 10.0.0.3 port 22: Connection refused"))
        #expect(!SSHHost.isTemporaryResolutionFailure("root@web1: Permission denied (publickey)."))
    }
}
