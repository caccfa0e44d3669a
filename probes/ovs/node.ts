import type { MethodImpl } from '../../src/rpc/method.js';

export const methods: MethodImpl[] = [];
