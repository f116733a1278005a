/**
 * The boot script of the state host (EC2 user data). Cloud-init runs it before the ECS agent starts
 * (the agent's unit is ordered after cloud-final). It joins the cluster first, then attaches the
 * persistent EBS data volume (waiting until the instance it replaces has let go of it), finds it by
 * its NVMe serial (the volume id), creates a file system only when the volume has none, mounts it,
 * hands each service its directory, and only then advertises the `mixstack.data` attribute that the
 * stateful task definitions require: a task can never start on an unmounted data directory.
 */
export interface StateHostBoot {
  volumeId: string;
  region: string;
  cluster: string;
  mountPath: string;
  /** Directories on the volume and their owners (uid/gid the service runs as). */
  directories: Array<{ path: string; uid: number; gid: number }>;
  /** Longest stop grace of the tasks on the host (ECS_CONTAINER_STOP_TIMEOUT). */
  stopTimeoutSeconds: number;
}

/** ECS instance attribute set once the data volume is mounted; stateful tasks are placed only where it is. */
export const DATA_ATTRIBUTE = "mixstack.data";

export function stateHostUserData(boot: StateHostBoot): string {
  const quote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;
  const directories = boot.directories
    .map(({ path, uid, gid }) => `prepare_directory ${quote(path)} ${uid} ${gid}`)
    .join("\n");
  return `#!/bin/bash
# mixstack state host: join the ECS cluster, attach and mount the persistent data volume, then let
# stateful tasks in. Output: /var/log/cloud-init-output.log.
set -euo pipefail
# Tests run this script against a scratch directory; on the instance it is empty.
ROOT="\${MIXSTACK_ROOT:-}"
VOLUME_ID=${quote(boot.volumeId)}
REGION=${quote(boot.region)}
CLUSTER=${quote(boot.cluster)}
MOUNT=${quote(boot.mountPath)}
ATTEMPTS="\${MIXSTACK_ATTEMPTS:-90}"

log() { echo "mixstack-data: $*" >&2; }

# Join the cluster first: without the data attribute below, no stateful task is placed here.
mkdir -p "$ROOT/etc/ecs"
cat >> "$ROOT/etc/ecs/ecs.config" <<CONFIG
ECS_CLUSTER=$CLUSTER
ECS_AWSVPC_BLOCK_IMDS=true
ECS_CONTAINER_STOP_TIMEOUT=${boot.stopTimeoutSeconds}s
CONFIG

command -v aws >/dev/null || dnf install -y -q awscli-2
token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
INSTANCE_ID=$(curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id)

# The instance this one replaces may still hold the volume: wait until it is free (or already ours).
attached=""
state=""; holder=""
for attempt in $(seq 1 "$ATTEMPTS"); do
  read -r state holder < <(aws ec2 describe-volumes --region "$REGION" --volume-ids "$VOLUME_ID" \\
    --query 'Volumes[0].[State, Attachments[0].InstanceId]' --output text) || true
  if [ "$state" = "in-use" ] && [ "$holder" = "$INSTANCE_ID" ]; then attached=yes; break; fi
  if [ "$state" = "available" ]; then
    aws ec2 attach-volume --region "$REGION" --volume-id "$VOLUME_ID" --instance-id "$INSTANCE_ID" --device /dev/xvdf >/dev/null \\
      && { attached=yes; break; }
  fi
  log "volume $VOLUME_ID is $state (held by $holder); waiting ($attempt/$ATTEMPTS)"
  sleep 10
done
[ -n "$attached" ] || { log "could not attach $VOLUME_ID"; exit 1; }

# Nitro instances expose EBS volumes as NVMe devices whose serial is the volume id without its dash.
serial="\${VOLUME_ID//-/}"
device=""
for attempt in $(seq 1 "$ATTEMPTS"); do
  device=$(lsblk -dpno NAME,SERIAL | awk -v serial="$serial" '$2 == serial { print $1; exit }') || true
  [ -n "$device" ] && break
  # Older (Xen) instance types keep the requested name.
  [ -b "$ROOT/dev/xvdf" ] && { device=/dev/xvdf; break; }
  sleep 2
done
[ -n "$device" ] || { log "volume $VOLUME_ID attached but no device appeared"; exit 1; }

# Create a file system only on an empty volume; refuse to guess when the probe fails.
set +e
fstype=$(blkid -p -o value -s TYPE "$device")
probe=$?
set -e
case "$probe" in
  0) log "found $fstype on $device ($VOLUME_ID)" ;;
  2) log "$device ($VOLUME_ID) is empty: creating an XFS file system"; mkfs.xfs -q -L mixstack-data "$device" ;;
  *) log "blkid failed ($probe) on $device: not touching it"; exit 1 ;;
esac

mkdir -p "$ROOT$MOUNT"
uuid=$(blkid -o value -s UUID "$device")
grep -q "UUID=$uuid " "$ROOT/etc/fstab" 2>/dev/null || echo "UUID=$uuid $MOUNT xfs defaults,nofail 0 2" >> "$ROOT/etc/fstab"
mountpoint -q "$ROOT$MOUNT" || mount "$device" "$ROOT$MOUNT"

# Each service's directory belongs to the user it runs as; existing content is left alone.
prepare_directory() {
  mkdir -p "$ROOT$1"
  chown "$2:$3" "$ROOT$1"
  chmod 0750 "$ROOT$1"
}
${directories}

# After a reboot the agent must not start before the volume is mounted again.
mkdir -p "$ROOT/etc/systemd/system/ecs.service.d"
cat > "$ROOT/etc/systemd/system/ecs.service.d/mixstack-data.conf" <<UNIT
[Unit]
RequiresMountsFor=$MOUNT
UNIT
systemctl daemon-reload

echo 'ECS_INSTANCE_ATTRIBUTES={"${DATA_ATTRIBUTE}":"mounted"}' >> "$ROOT/etc/ecs/ecs.config"
log "$VOLUME_ID mounted at $MOUNT; stateful tasks may start"
`;
}
