// Only the part of @alicloud/fc2 this project calls; the package ships no types.
declare module '@alicloud/fc2' {
  interface FcClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    endpoint?: string;
    secure?: boolean;
    internal?: boolean;
    timeout?: number;
    headers?: Record<string, string>;
  }

  interface FcResponse {
    headers: Record<string, string | string[] | undefined>;
    data: unknown;
  }

  class FCClient {
    constructor(accountId: string, config: FcClientConfig);
    /** API version prefixed to every path; '2016-08-15' by default, set to '2023-03-30' for FC 3.0. */
    version: string;
    post(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<FcResponse>;
  }

  export = FCClient;
}
