import { readManifests } from './manifests.ts';
import { startApiServer } from './server.ts';

const s = await startApiServer({ port: 16443 });
s.applyObjects(readManifests(['config/crd', 'config/samples']));
s.writeKubeconfig('/tmp/kc/config');
console.log('up', s.url, process.pid);
