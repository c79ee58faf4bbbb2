// Types of render-deploy.cjs, for the test that holds the deployment files to it.
export interface DeployedService {
  name: string;
  portVariable: string;
  port: number;
  variables: string[];
  peers: DeployedService[];
  /** Its objectives, as its folder's slo.yaml states them. */
  slo: {
    availability: { objective: number; why: string };
    latency: {
      objective: number;
      why: string;
      thresholds: {
        routes: string;
        le: string;
        match: string[];
        why: string;
      }[];
    };
  };
}
export declare function servicesWithPeers(): DeployedService[];
export declare function render(
  services?: DeployedService[],
): { file: string; text: string }[];
export declare function staleFiles(): string[];
