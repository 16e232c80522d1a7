// The executor's own checks of a plan's steps. A plan's digest proves it was
// not edited by accident, not who wrote it: anyone can print a plan with a
// valid digest. So before the first step, what the host acts on is checked
// here again, whatever the compiler checked: places that must be ctc's own
// ({state}, {state}/rootfs), paths without `..` (a mount cannot climb out of
// the root, a cgroup out of its parent), names and addresses the kernel
// takes. A plan that fails is CT_PLAN_INVALID, naming the step, before
// anything is done.

import { CtcError } from '../common/error.ts';
import { parseCidr, parseInet } from './inet.ts';
import { type Step, type StepKind, actorOf, list, str } from './steps.ts';
import { joinableNamespaces } from './namespaces.ts';

type Rule = (s: Step) => string | undefined;

const climbs = (p: string) => p.split('/').includes('..');
/** {state} and {root} are the state dir and root, absolute paths once filled in */
const absolute = (p: string) => p.replace(/^\{(state|root)\}(?=\/|$)/, '/state').startsWith('/') && !climbs(p) && !p.includes('\0');
const path =
  (name: string, what = 'an absolute path without ..'): Rule =>
  (s) =>
    absolute(str(s, name)) ? undefined : `${name} must be ${what}`;
const exactly =
  (name: string, value: string): Rule =>
  (s) =>
    str(s, name) === value ? undefined : `${name} must be ${value}`;
const cgroup: Rule = (s) => (climbs(str(s, 'path')) ? 'path must not climb out of the cgroup parent with ..' : undefined);
const ifname =
  (name: string): Rule =>
  (s) => {
    const v = str(s, name);
    return v === '' || (Buffer.byteLength(v) <= 15 && !/[\s/:]/.test(v)) ? undefined : `${name} is not an interface name`;
  };
const cidr =
  (name: string): Rule =>
  (s) =>
    /^\{ipv[46]:[^}]+\}\/\d+$/.test(str(s, name)) || parseCidr(str(s, name)) ? undefined : `${name} is not an address with a prefix`;
const inet =
  (name: string): Rule =>
  (s) =>
    str(s, name) === '' || parseInet(str(s, name)) ? undefined : `${name} is not an address`;
const mapLines: Rule = (s) =>
  [...list(s, 'uid'), ...list(s, 'gid')].every((l) => /^\d+ (\d+|\{self\}|\{subordinate\}) \d+$/.test(l))
    ? undefined
    : 'a map line is not "inside outside count"';
const fileName: Rule = (s) =>
  /^[A-Za-z0-9._-]+$/.test(str(s, 'name')) && !climbs(str(s, 'name')) ? undefined : 'name must be a plain file name';

/** What each kind's arguments must be, beyond their types (which the plan parser checks). */
const rules: Partial<Record<StepKind, Rule[]>> = {
  'state.create': [exactly('dir', '{state}')],
  'cgroup.create': [cgroup],
  'cgroup.limit': [cgroup],
  'cgroup.devices': [cgroup],
  'cgroup.join': [cgroup],
  'net.bridge': [
    ifname('name'),
    (s) => (list(s, 'addrs').every((a) => parseCidr(a)) ? undefined : 'addrs must be addresses with prefixes'),
  ],
  'net.ipam': [
    ifname('bridge'),
    ifname('dev'),
    (s) => (list(s, 'subnets').every((a) => parseCidr(a)) ? undefined : 'subnets must be addresses with prefixes'),
  ],
  'net.veth': [ifname('host'), ifname('peer'), ifname('bridge')],
  'net.addr': [ifname('dev'), cidr('addr')],
  'net.route': [
    (s) => (str(s, 'dst') === 'default' || parseCidr(str(s, 'dst')) ? undefined : 'dst is not a subnet'),
    inet('gw'),
    inet('src'),
    ifname('dev'),
  ],
  'state.file': [fileName],
  'user.map': [mapLines],
  'ns.join': [
    path('path'),
    (s) =>
      (joinableNamespaces as readonly string[]).includes(str(s, 'ns')) ? undefined : `ns must be one of ${joinableNamespaces.join(', ')}`,
  ],
  'rootfs.tmpfs': [exactly('dir', '{state}/rootfs')],
  'rootfs.bind': [path('dir')],
  'rootfs.overlay': [path('lower'), exactly('dir', '{state}/rootfs')],
  'rootfs.mirror': [path('path')],
  'fs.mkdir': [path('path')],
  'fs.write': [path('path')],
  'fs.symlink': [path('path')],
  'dev.node': [path('path')],
  'mount.fs': [path('dst')],
  'mount.bind': [path('src'), path('dst')],
  'mount.cgroup': [path('dst'), cgroup],
  'mount.idmap': [path('root'), path('src'), path('dst')],
  'fs.mask': [path('path')],
  'fs.readonly': [path('path')],
  'proc.cwd': [path('dir')],
};

export function validatePlanSteps(steps: readonly Step[]): void {
  for (const s of steps) {
    for (const rule of rules[s.kind] ?? []) {
      const wrong = rule(s);
      if (wrong) throw invalid(s, wrong);
    }
  }
  // ctc-init's monitor joins a user, then a pid namespace before the clone: the plan must say so where it happens
  const firstInit = steps.filter((s) => actorOf(s.kind) === 'init');
  const monitorJoins = ['user', 'pid'].flatMap((ns) => steps.filter((s) => s.kind === 'ns.join' && str(s, 'ns') === ns));
  monitorJoins.forEach((s, i) => {
    if (s !== firstInit[i])
      throw invalid(
        s,
        `a ${str(s, 'ns')} namespace is joined before the clone: it must be the first init step (a user namespace's before a pid namespace's)`,
      );
  });
}

const invalid = (s: Step, wrong: string) =>
  new CtcError('CT_PLAN_INVALID', wrong, {
    step: { n: s.n, kind: s.kind },
    hint: 'plans are built by ctc build, not written: rebuild it from its source',
  });
