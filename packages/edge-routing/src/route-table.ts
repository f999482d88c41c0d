import type { ResolvedRouterOptions } from './options';
import type { ResolvedRoute, TargetInfo } from './types';

/** Distinct model names whose resolution is kept (more are resolved on each call). */
const MAX_MEMOIZED_ROUTES = 1024;

/** Model names → routes: aliases, target ids, `provider/model` addresses and bare model names. */
export class RouteTable {
  readonly #options: ResolvedRouterOptions;
  readonly #targets = new Map<string, TargetInfo>();
  /**
   * Resolved routes by the name asked for. The table never changes after construction, and every
   * request resolves its model at least twice (admission, then routing), so each name is worked
   * out once. Names come from clients, so the memo is bounded and holds only names that resolve.
   */
  readonly #resolved = new Map<string, ResolvedRoute>();

  constructor(options: ResolvedRouterOptions) {
    this.#options = options;
    for (const t of options.targets)
      this.#targets.set(t.id, { id: t.id, provider: t.provider, model: t.model });
  }

  /** The configured target with this id. */
  target(id: string): TargetInfo | undefined {
    return this.#targets.get(id);
  }

  /**
   * Resolves what a client sent as `model`, first match wins: an alias name; a target id;
   * `provider/model` (the provider key up to the first `/`, so model names may contain `/`),
   * which uses the configured targets for that pair or, when `allowDirect`, an unconfigured one;
   * finally a bare model name served by one or more configured targets.
   */
  resolve(model: string): ResolvedRoute | undefined {
    if (typeof model !== 'string' || model.length === 0) return undefined;
    const known = this.#resolved.get(model);
    if (known !== undefined) return known;
    const route = this.#resolve(model);
    if (route !== undefined && this.#resolved.size < MAX_MEMOIZED_ROUTES) {
      Object.freeze(route.targets);
      this.#resolved.set(model, Object.freeze(route));
    }
    return route;
  }

  #resolve(model: string): ResolvedRoute | undefined {
    const { aliases, hedge, defaultStrategy, providers, allowDirect } = this.#options;
    const alias = aliases.find((a) => a.name === model);
    if (alias) {
      return {
        name: model,
        kind: 'alias',
        strategy: alias.strategy ?? 'priority',
        hedgeDelayMs: alias.hedgeDelayMs ?? hedge.delayMs,
        targets: alias.targets.map((id) => this.#targets.get(id)!),
      };
    }
    const byId = this.#targets.get(model);
    if (byId) return this.#route(model, 'target', [byId], defaultStrategy, hedge.delayMs);
    const slash = model.indexOf('/');
    if (slash > 0 && slash < model.length - 1) {
      const provider = model.slice(0, slash);
      const upstreamModel = model.slice(slash + 1);
      if (Object.hasOwn(providers, provider)) {
        const configured = [...this.#targets.values()].filter(
          (t) => t.provider === provider && t.model === upstreamModel,
        );
        if (configured.length > 0)
          return this.#route(model, 'direct', configured, defaultStrategy, hedge.delayMs);
        if (allowDirect) {
          return this.#route(
            model,
            'direct',
            [{ id: model, provider, model: upstreamModel }],
            defaultStrategy,
            undefined,
          );
        }
        return undefined;
      }
    }
    const byModel = [...this.#targets.values()].filter((t) => t.model === model);
    if (byModel.length > 0) return this.#route(model, 'model', byModel, defaultStrategy, hedge.delayMs);
    return undefined;
  }

  /** Aliases, then each configured `provider/model` pair once, for a models listing. */
  models(): { id: string; ownedBy: string }[] {
    const list = this.#options.aliases.map((a) => ({ id: a.name, ownedBy: 'llm-edge' }));
    const seen = new Set(list.map((m) => m.id));
    for (const t of this.#targets.values()) {
      const id = `${t.provider}/${t.model}`;
      if (seen.has(id)) continue;
      seen.add(id);
      list.push({ id, ownedBy: t.provider });
    }
    return list;
  }

  #route(
    name: string,
    kind: ResolvedRoute['kind'],
    targets: TargetInfo[],
    strategy: ResolvedRoute['strategy'],
    hedgeDelayMs: number | undefined,
  ): ResolvedRoute {
    return { name, kind, strategy, hedgeDelayMs: targets.length > 1 ? hedgeDelayMs : undefined, targets };
  }
}
