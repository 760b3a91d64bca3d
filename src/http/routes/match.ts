import { Router } from 'express';
import type { MatchBody } from '../../engine/query.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../app.js';

/** `POST /v1/match`: one-click matching from one or several origins. */
export function matchRoutes({ contract, queries }: AppDeps): Router {
  const router = Router();

  router.post('/v1/match', jsonBody('16kb'), async (req, res) => {
    const { body } = contract.input('match', req);
    const answer = await queries.match(body as MatchBody);
    res.type(answer.type).send(answer.body);
  });

  return router;
}
