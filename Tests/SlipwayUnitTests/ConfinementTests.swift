import Foundation
import SlipwayCore
import SlipwayRuntime
import Testing

/// `process.user` as this host knows it, and what `slipway launch` is told.
@Suite struct ConfinementTests {
    @Test func aUserIsResolvedWithItsGroupsAndTheLauncherIsToldEverything() throws {
        let c = try Confinement.resolve(ProcessPrivileges(user: "nobody", nofile: 1024, nproc: 64), euid: 0, egid: 0)
        #expect(c.uid == 65534 && c.userName == "nobody" && c.gid != nil && c.groups.first == c.gid && c.noNewPrivileges)
        let argv = c.launch(["./shop", "--port", "1"], program: "/srv/shop", launcher: "/usr/bin/slipway")
        #expect(argv == ["/usr/bin/slipway", "launch", "--uid", "65534", "--gid", "\(c.gid!)", "--groups", c.groups.map(String.init).joined(separator: ","),
                         "--no-new-privileges", "--nofile", "1024", "--nproc", "64", "--umask", "27", "--program", "/srv/shop", "--", "./shop", "--port", "1"])
    }

    @Test func aUserOrGroupTheHostLacksIsAUsageErrorNamingTheKey() {
        #expect(throws: SlipwayError.self) { try Confinement.resolve(ProcessPrivileges(user: "no-such-user-here"), euid: 0, egid: 0) }
        do { _ = try Confinement.resolve(ProcessPrivileges(group: "no-such-group-here"), key: "accessories.redis", euid: 0, egid: 0) } catch {
            #expect(error.code == .usage && error.message.hasPrefix("accessories.redis.group: there is no group 'no-such-group-here'"), "\(error.message)")
        }
    }

    @Test func aDaemonThatIsNotRootRefusesToBecomeSomeoneElseButMayStayItself() throws {
        do {
            _ = try Confinement.resolve(ProcessPrivileges(user: "nobody"), euid: 1000, egid: 1000)
            Issue.record("a non-root daemon accepted to become nobody")
        } catch {
            #expect(error.code == .usage && error.message.contains("process.user: this daemon runs as uid 1000, not root, and cannot become user 'nobody'"),
                    "\(error.message)")
        }
        let same = try Confinement.resolve(ProcessPrivileges(user: "1000", group: "1000"), euid: 1000, egid: 1000)
        #expect(same.uid == 1000 && same.gid == 1000)
        let plain = try Confinement.resolve(ProcessPrivileges(), euid: 1000, egid: 1000)
        #expect(plain.uid == nil && plain.noNewPrivileges && plain.umask == 0o027)
    }
}
